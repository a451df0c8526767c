"""Who may do what. Views check roles here, never inline."""

from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
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


def _wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _htmx_next(request, login_url_name: str) -> str:
    """Where sign-in should land after an htmx request found the session gone.

    Never the fragment's own URL: it may be POST-only (405 after sign-in) or, in the sidebar, a page
    outside the shell /sidebar/ that loads the JS-SDK. The sidebar restarts at its shell; the console
    goes back to the page the browser shows (htmx sends it as HX-Current-URL).
    """
    if login_url_name == "sidebar:login":
        return reverse("sidebar:home")
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.path and url_has_allowed_host_and_scheme(
        current.geturl(), allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return current.path + (f"?{current.query}" if current.query else "")
    return "/"


def _login_redirect(request, login_url_name: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        url = f"{reverse(login_url_name)}?{urlencode({'next': _htmx_next(request, login_url_name)})}"
        # A swapped-in login page would land inside a fragment; ask htmx to reload the whole page instead.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    if _wants_json(request):
        # fetch() would follow a redirect into the OAuth page and fail; say what happened instead.
        if login_url_name == "sidebar:login":
            message = _("登录已过期，请关闭侧边栏后重新打开。")
        else:
            message = _("登录已过期，请刷新页面后重新登录。")
        return JsonResponse({"error": message, "login": True}, status=401)
    url = f"{reverse(login_url_name)}?{urlencode({'next': request.get_full_path()})}"
    return redirect(url)


def forbidden(request, message: str = "") -> HttpResponse:
    """The 403 page, with a way out (home, sign out) instead of a bare line of text."""
    if _wants_json(request):
        return JsonResponse({"error": message or _("没有权限访问此页面")}, status=403)
    return render(request, "403.html", {"message": message}, status=403)


def staff_required(view=None, *, roles: tuple[str, ...] | None = None, login_url_name: str = "sidebar:login"):
    """Require a signed-in active Staff (optionally of some roles); sets request.staff."""

    def decorator(func):
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            staff = current_staff(request)
            if staff is None:
                return _login_redirect(request, login_url_name)
            if roles and staff.role not in roles:
                return forbidden(request)
            request.staff = staff
            return func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view else decorator


def store_in_reach(staff: Staff, store_id: int | None) -> bool:
    """Admins reach every store; managers only their own (and nothing when they have none)."""
    if staff.role == Staff.Role.ADMIN:
        return True
    return staff.role == Staff.Role.MANAGER and staff.store_id is not None and staff.store_id == store_id
