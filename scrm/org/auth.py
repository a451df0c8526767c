"""Who may do what. Views check roles here, never inline."""

from functools import wraps
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from scrm.org.models import Staff


def current_staff(request) -> Staff | None:
    """The active Staff behind the request's user, or None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    staff = getattr(user, "staff", None)
    if staff is None or not staff.is_active:
        return None
    return staff


def _login_redirect(request, login_url_name: str) -> HttpResponse:
    url = f"{reverse(login_url_name)}?{urlencode({'next': request.get_full_path()})}"
    if getattr(request, "htmx", False):
        # A swapped-in login page would land inside a fragment; ask htmx to navigate instead.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def staff_required(view=None, *, roles: tuple[str, ...] | None = None, login_url_name: str = "sidebar:login"):
    """Require a signed-in active Staff (optionally of some roles); sets request.staff."""

    def decorator(func):
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            staff = current_staff(request)
            if staff is None:
                return _login_redirect(request, login_url_name)
            if roles and staff.role not in roles:
                return HttpResponse(_("没有权限访问此页面"), status=403)
            request.staff = staff
            return func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view else decorator


def store_in_reach(staff: Staff, store_id: int | None) -> bool:
    """Admins reach every store; managers only their own (and nothing when they have none)."""
    if staff.role == Staff.Role.ADMIN:
        return True
    return staff.role == Staff.Role.MANAGER and staff.store_id is not None and staff.store_id == store_id
