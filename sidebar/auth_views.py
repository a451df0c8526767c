"""Sidebar sign-in through WeCom OAuth, the JS-SDK config endpoint and the shell page."""

import logging
import secrets
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_cache_control
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from scrm.org.auth import current_staff
from scrm.org.models import Staff
from scrm.org.services import staff_user_ensure
from scrm.wecom import api, errors
from scrm.wecom.errors import WeComError
from scrm.wecom.jssdk import jssdk_config_for_url
from sidebar.signin import sidebar_staff_required

logger = logging.getLogger(__name__)

# The OAuth state and next URL ride in a short-lived signed cookie, not the session: an anonymous
# visit to the login page must not create a session row (bots would fill the table).
OAUTH_COOKIE = "sidebar_oauth"
OAUTH_SALT = "sidebar.oauth"
OAUTH_MAX_AGE = 600
# WeCom answers these for a code that is wrong, used or expired: the guide should simply retry.
BAD_CODE_ERRCODES = {40029, 40163, 42003}
NOT_A_MEMBER_ERRCODE = 46004  # the code belongs to someone outside the corp (see api.oauth_get_userid)


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("sidebar:home")


def _signin_error(request: HttpRequest, *, title: str, message: str, status: int) -> HttpResponse:
    context = {"title": title, "message": message, "retry_url": reverse("sidebar:login")}
    return render(request, "sidebar/signin_error.html", context, status=status)


@require_GET
def login(request: HttpRequest) -> HttpResponse:
    """Start WeCom OAuth (snsapi_base); the state is bound to this browser to stop forged callbacks."""
    next_url = _safe_next(request, request.GET.get("next"))
    if current_staff(request) is not None:
        return redirect(next_url)
    state = secrets.token_urlsafe(16)
    query = urlencode(
        {
            "appid": settings.WECOM_CORP_ID,
            # From SITE_URL, not the request: behind a TLS-terminating load balancer the request is http.
            "redirect_uri": settings.SITE_URL + reverse("sidebar:oauth_callback"),
            "response_type": "code",
            "scope": "snsapi_base",
            "state": state,
            "agentid": settings.WECOM_AGENT_ID,
        }
    )
    response = redirect(f"{settings.WECOM_OAUTH_URL}?{query}#wechat_redirect")
    # signing.dumps is URL-safe base64: no quotes or commas, which some HTTP clients mangle in a cookie.
    response.set_cookie(
        OAUTH_COOKIE,
        signing.dumps({"state": state, "next": next_url}, salt=OAUTH_SALT),
        max_age=OAUTH_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def _oauth_started(request: HttpRequest) -> dict:
    """The state and next URL this browser's sign-in started with ({} if none, expired or forged)."""
    raw = request.COOKIES.get(OAUTH_COOKIE)
    try:
        started = signing.loads(raw, salt=OAUTH_SALT, max_age=OAUTH_MAX_AGE) if raw else {}
    except signing.BadSignature:  # forged, or expired (SignatureExpired is a BadSignature)
        return {}
    return started if isinstance(started, dict) else {}


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    response = _oauth_finish(request)
    response.delete_cookie(OAUTH_COOKIE, samesite="Lax")  # single use, whatever the outcome
    return response


def _oauth_finish(request: HttpRequest) -> HttpResponse:
    started = _oauth_started(request)
    expected = started.get("state")
    state = request.GET.get("state", "")
    if not isinstance(expected, str) or not constant_time_compare(state, expected):
        return _signin_error(
            request,
            title=_("登录链接已失效"),
            message=_("登录请求已过期或不是从本页面发起的，请重新打开侧边栏。"),
            status=400,
        )
    code = request.GET.get("code", "").strip()
    if not code:
        return _signin_error(
            request, title=_("登录未完成"), message=_("企业微信没有返回授权码，请重新打开侧边栏。"), status=400
        )
    try:
        userid = api.oauth_get_userid(code)
    except WeComError as exc:
        if exc.errcode == NOT_A_MEMBER_ERRCODE:
            return _signin_error(
                request,
                title=_("无法识别你的身份"),
                message=_("只有本企业的成员可以使用导购助手。"),
                status=403,
            )
        if exc.errcode in BAD_CODE_ERRCODES:
            return _signin_error(
                request, title=_("授权码已失效"), message=_("授权码无效或已使用，请重新打开侧边栏。"), status=400
            )
        logger.warning("sidebar sign-in: oauth exchange failed: %r", exc)
        if action := errors.admin_action(exc.errcode):
            return _signin_error(request, title=_("需要管理员处理"), message=action, status=502)
        return _signin_error(request, title=_("企业微信暂时无法访问"), message=_("请稍后重新打开侧边栏。"), status=502)

    staff = Staff.objects.select_related("user").filter(userid=userid).first()
    if staff is None:
        return _signin_error(
            request,
            title=_("尚未开通导购助手"),
            message=_("你的企业微信账号（%(userid)s）还没有加入导购助手，请联系管理员开通。") % {"userid": userid},
            status=403,
        )
    if not staff.is_active:
        return _signin_error(
            request,
            title=_("账号已停用"),
            message=_("你的账号已离职或停用，无法使用导购助手。如有疑问请联系管理员。"),
            status=403,
        )
    user = staff_user_ensure(staff=staff)
    if not user.is_active:
        return _signin_error(
            request, title=_("账号已停用"), message=_("你的登录账号已被停用，请联系管理员。"), status=403
        )
    next_url = _safe_next(request, started.get("next"))
    auth_login(request, user)
    return redirect(next_url)


def _portrait_url_template() -> str:
    # The customer screens are in sidebar/urls.py; the shell works without them.
    try:
        return reverse("sidebar:portrait", kwargs={"external_userid": "__EXTERNAL_USERID__"})
    except NoReverseMatch:
        return ""


@require_GET
@sidebar_staff_required
def home(request: HttpRequest) -> HttpResponse:
    """The shell WeCom opens beside a chat: bootstrap.js finds the customer and loads the portrait."""
    context = {
        "jssdk_script": static(settings.WECOM_JSSDK_SCRIPT),
        # Dev only: the simulated native bridge, loaded before the same SDK production runs.
        "bridge_script": static("wecom/sim-jssdk.js") if settings.WECOM_SIMULATOR else "",
        "corp_id": settings.WECOM_CORP_ID,
        "agent_id": settings.WECOM_AGENT_ID,
        "config_url": reverse("sidebar:jssdk_config"),
        "portrait_url": _portrait_url_template(),
    }
    return render(request, "sidebar/shell.html", context)


JSSDK_CONFIG_MAX_AGE = 300


@require_GET
def jssdk_config(request: HttpRequest) -> JsonResponse:
    """wx.config / wx.agentConfig parameters for the page at ?url= (one of our own pages)."""
    # JSON callers get 401, not the OAuth redirect a page would: bootstrap.js reloads the page instead.
    if current_staff(request) is None:
        return JsonResponse({"error": _("登录已过期，请重新打开侧边栏。")}, status=401)
    url = request.GET.get("url", "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = None
    allowed_hosts = {request.get_host(), urlsplit(settings.SITE_URL).netloc}
    if (
        not url
        or parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.netloc
        or not url_has_allowed_host_and_scheme(url, allowed_hosts=allowed_hosts)
    ):
        return JsonResponse({"error": _("url 参数必须是本站页面的完整地址。")}, status=400)
    try:
        payload = jssdk_config_for_url(url=url)
    except WeComError as exc:
        logger.warning("sidebar jssdk config: ticket unavailable: %r", exc)
        return JsonResponse(
            {"error": errors.admin_action(exc.errcode) or _("企业微信暂时无法访问，请稍后重试。")}, status=502
        )
    response = JsonResponse(payload)
    # A signature holds while the ticket does (2 h): the guide's browser may reuse it for a few minutes,
    # so reopening the sidebar costs one request less (#17). bootstrap.js re-signs past the cache if
    # WeCom rejects it (a rotated ticket).
    patch_cache_control(response, private=True, max_age=JSSDK_CONFIG_MAX_AGE)
    return response
