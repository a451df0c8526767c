"""Who may do what. Views check roles here, never inline."""

import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class SignIn:
    """How an area of the site signs staff in; each area passes its own to staff_required.

    url_name: its login page. restart_url_name: where an htmx request that found the session gone
    lands after signing in (None: the page the browser shows, which htmx sends as HX-Current-URL).
    expired: what a JSON caller is told.
    """

    url_name: str
    restart_url_name: str | None
    expired: str


def _htmx_next(request, sign_in: SignIn) -> str:
    """Where sign-in should land after an htmx request found the session gone.

    Never the fragment's own URL: it may be POST-only (405 after sign-in) or a page outside a shell
    that loads what the area needs (the sidebar's JS-SDK).
    """
    if sign_in.restart_url_name:
        return reverse(sign_in.restart_url_name)
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.path and url_has_allowed_host_and_scheme(
        current.geturl(), allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return current.path + (f"?{current.query}" if current.query else "")
    return "/"


def _login_redirect(request, sign_in: SignIn) -> HttpResponse:
    if getattr(request, "htmx", False):
        url = f"{reverse(sign_in.url_name)}?{urlencode({'next': _htmx_next(request, sign_in)})}"
        # A swapped-in login page would land inside a fragment; ask htmx to reload the whole page instead.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    if _wants_json(request):
        # fetch() would follow a redirect into the OAuth page and fail; say what happened instead.
        return JsonResponse({"error": str(sign_in.expired), "login": True}, status=401)
    url = f"{reverse(sign_in.url_name)}?{urlencode({'next': request.get_full_path()})}"
    return redirect(url)


def forbidden(request, message: str = "") -> HttpResponse:
    """The 403 page, with a way out (home, sign out) instead of a bare line of text."""
    if _wants_json(request):
        return JsonResponse({"error": message or _("没有权限访问此页面")}, status=403)
    return render(request, "403.html", {"message": message}, status=403)


RENEWED_KEY = "renewed_at"
RENEW_EVERY = 24 * 60 * 60


def session_mark_renewed(sender, request, user, **kwargs) -> None:
    """On sign-in the week starts now (connected to user_logged_in in OrgConfig.ready)."""
    if getattr(request, "session", None) is not None:
        request.session[RENEWED_KEY] = int(time.time())


def _renew_session(request) -> None:
    """Staff who use the product stay signed in: the session's 7 days start again once a day (a write a
    day, not one per request). Only someone away for a week signs in again, mid-action or not."""
    session = getattr(request, "session", None)
    if session is None:
        return
    now = int(time.time())
    if now - session.get(RENEWED_KEY, 0) >= RENEW_EVERY:
        session[RENEWED_KEY] = now  # modified: saved with a new expiry, and the cookie re-sent


def staff_required(*, sign_in: SignIn, roles: tuple[str, ...] | None = None):
    """Require a signed-in active Staff (optionally of some roles), signing in as `sign_in` says;
    sets request.staff."""

    def decorator(func):
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            staff = current_staff(request)
            if staff is None:
                return _login_redirect(request, sign_in)
            if roles and staff.role not in roles:
                return forbidden(request)
            request.staff = staff
            _renew_session(request)
            return func(request, *args, **kwargs)

        return wrapper

    return decorator


def store_in_reach(staff: Staff, store_id: int | None) -> bool:
    """Admins reach every store; managers only their own (and nothing when they have none)."""
    if staff.role == Staff.Role.ADMIN:
        return True
    return staff.role == Staff.Role.MANAGER and staff.store_id is not None and staff.store_id == store_id
