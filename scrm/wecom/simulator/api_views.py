"""The simulated WeCom server API under /_wecom/cgi-bin/: WeCom's paths, JSON shapes and errcodes.

Every answer is HTTP 200 with errcode/errmsg, as WeCom does. Dev and tests only.
"""

import json
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from scrm.wecom.simulator import services
from scrm.wecom.simulator.endpoints import auth, contacts, media, messages, tags, transfers, ways
from scrm.wecom.simulator.endpoints.common import SimError
from scrm.wecom.simulator.models import SimAccessToken, SimContactWay, SimMember

# --- dispatch ---------------------------------------------------------------------------------

Handler = Callable[[HttpRequest, dict], dict]
APP, CONTACT, ANY, NONE = "app", "contact", "any", "none"

ROUTES: dict[str, tuple[Handler, str]] = {
    "gettoken": (auth.gettoken, NONE),
    "get_jsapi_ticket": (auth.get_jsapi_ticket, APP),
    "ticket/get": (auth.ticket_get, APP),
    "auth/getuserinfo": (auth.auth_getuserinfo, APP),
    "user/getuserinfo": (auth.user_getuserinfo, APP),
    "user/get": (auth.user_get, ANY),
    "user/list": (auth.user_list, ANY),
    "externalcontact/list": (contacts.ec_list, CONTACT),
    "externalcontact/get": (contacts.ec_get, CONTACT),
    "externalcontact/batch/get_by_user": (contacts.ec_batch_get_by_user, CONTACT),
    "externalcontact/get_follow_user_list": (contacts.ec_follow_user_list, CONTACT),
    "externalcontact/remark": (contacts.ec_remark, CONTACT),
    "externalcontact/get_corp_tag_list": (tags.tag_list, CONTACT),
    "externalcontact/add_corp_tag": (tags.tag_add, CONTACT),
    "externalcontact/edit_corp_tag": (tags.tag_edit, CONTACT),
    "externalcontact/del_corp_tag": (tags.tag_del, CONTACT),
    "externalcontact/mark_tag": (tags.tag_mark, CONTACT),
    "externalcontact/add_contact_way": (ways.way_add, CONTACT),
    "externalcontact/get_contact_way": (ways.way_get, CONTACT),
    "externalcontact/update_contact_way": (ways.way_update, CONTACT),
    "externalcontact/del_contact_way": (ways.way_del, CONTACT),
    "externalcontact/send_welcome_msg": (messages.welcome_send, CONTACT),
    "externalcontact/transfer_customer": (transfers.transfer_customer, CONTACT),
    "externalcontact/resigned/transfer_customer": (transfers.resigned_transfer_customer, CONTACT),
    "externalcontact/transfer_result": (transfers.transfer_result, CONTACT),
    "externalcontact/resigned/transfer_result": (transfers.resigned_transfer_result, CONTACT),
    "externalcontact/get_unassigned_list": (transfers.unassigned_list, CONTACT),
    "media/upload": (media.media_upload, APP),
    "message/send": (messages.message_send, APP),
}


def _check_token(request: HttpRequest, needs: str) -> None:
    if needs == NONE:
        return
    value = request.GET.get("access_token", "")
    token = SimAccessToken.objects.filter(token=value).first() if value else None
    if token is None:
        raise SimError(40014, "invalid access_token")
    if token.expires_at <= timezone.now():
        raise SimError(42001, "access_token expired")
    if needs != ANY and token.kind != needs:
        raise SimError(48002, "api forbidden: this secret may not call this api")


@csrf_exempt
def api(request: HttpRequest, endpoint: str) -> JsonResponse:
    """Route /_wecom/cgi-bin/<endpoint> like WeCom: always HTTP 200 with errcode/errmsg."""
    endpoint = endpoint.strip("/")
    route = ROUTES.get(endpoint)
    try:
        if route is None:
            raise SimError(60001, f"api not found: {endpoint}")  # unknown path, still JSON like WeCom
        handler, needs = route
        fault = services.fault_take(path=endpoint)
        if fault is not None:
            raise SimError(fault.errcode, fault.errmsg)
        _check_token(request, needs)
        body: dict = {}
        if request.method == "POST" and request.content_type != "multipart/form-data":
            try:
                body = json.loads(request.body or b"{}")
            except (ValueError, UnicodeDecodeError) as exc:
                raise SimError(47001, "data format error") from exc
            if not isinstance(body, dict):
                raise SimError(47001, "data format error")
        result = handler(request, body)
    except SimError as exc:
        result = {"errcode": exc.errcode, "errmsg": exc.errmsg}
    return JsonResponse(result, json_dumps_params={"ensure_ascii": False})


# --- OAuth page -------------------------------------------------------------------------------


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def oauth_authorize(request: HttpRequest) -> HttpResponse:
    """Stand-in for open.weixin.qq.com/connect/oauth2/authorize: pick a member, get a code."""
    appid = request.GET.get("appid", "")
    redirect_uri = request.GET.get("redirect_uri", "")
    if appid != settings.WECOM_CORP_ID:
        return HttpResponse(_("appid 与企业 ID 不一致"), status=400, content_type="text/plain; charset=utf-8")
    # Like WeCom's trusted domain: only back to our own site, never an open redirect.
    own_hosts = {request.get_host(), urlsplit(settings.SITE_URL).netloc}
    if not redirect_uri or not url_has_allowed_host_and_scheme(redirect_uri, allowed_hosts=own_hosts):
        return HttpResponse(_("redirect_uri 无效"), status=400, content_type="text/plain; charset=utf-8")
    userid = request.GET.get("sim_userid") or request.COOKIES.get("sim_userid", "")
    member = SimMember.objects.filter(userid=userid, status=SimMember.Status.ACTIVE).first() if userid else None
    if member is not None:
        code = services.oauth_code_issue(userid=member.userid)
        return redirect(_with_query(redirect_uri, code=code, state=request.GET.get("state", "")))
    members = SimMember.objects.filter(status=SimMember.Status.ACTIVE).order_by("userid")
    choices = [(m, _with_query(request.get_full_path(), sim_userid=m.userid)) for m in members]
    return render(request, "wecom/sim_authorize.html", {"choices": choices, "unknown_userid": userid})


def qr_code(request: HttpRequest, config_id: str) -> HttpResponse:
    """The code's QR image, like WeCom's qr_code URL: a real QR that opens the simulator's scan page."""
    import io

    import segno

    if not SimContactWay.objects.filter(config_id=config_id).exists():
        return HttpResponse(status=404)
    url = settings.SITE_URL.rstrip("/") + f"/dev/scan/{config_id}/"
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=8, border=2)
    return HttpResponse(out.getvalue(), content_type="image/png")
