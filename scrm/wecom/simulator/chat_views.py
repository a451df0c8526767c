"""/dev/chat/: a desktop stand-in for WeCom's chat window with our sidebar beside it (simulator only).

The page picks a guide (the `sim_userid` cookie makes the simulated OAuth sign the sidebar in as
them), a customer, shows the conversation, and answers the simulated JS-SDK in the sidebar iframe.
"""

import datetime as dt
import json
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from scrm.customers.models import FollowRelation
from scrm.org.auth import current_staff
from scrm.org.models import Staff
from scrm.wecom.jssdk import jssdk_signature
from scrm.wecom.simulator import groupmsg, services
from scrm.wecom.simulator.chat import archive_notify, chat_message_add
from scrm.wecom.simulator.models import (
    SimChatMessage,
    SimContactWay,
    SimExternalContact,
    SimMedia,
    SimMember,
    SimSentMessage,
    SimTicket,
    SimTransfer,
)

SIM_USERID_COOKIE = "sim_userid"
MAX_TEXT = 2000
MEDIA_MSGTYPES = {"image", "video", "file"}


class ChatMessageError(ValueError):
    """A sendChatMessage payload WeCom would refuse; the text becomes the err_msg reason."""


def _guide_relations(guide: Staff | None):
    if guide is None:
        return FollowRelation.objects.none()
    return (
        FollowRelation.objects.filter(staff=guide, ended_at__isnull=True)
        .select_related("customer", "staff")
        .order_by("-added_at", "-id")
    )


def _contact(userid: str, external_userid: str):
    """The guide's current relation with the customer: the chat exists only while they are friends."""
    return FollowRelation.objects.filter(staff__userid=userid, external_userid=external_userid, ended_at__isnull=True)


APP_MESSAGES_SHOWN = 20


def _app_messages(userid: str) -> list[SimSentMessage]:
    """The newest app messages (message/send) this member received, oldest first like a chat."""
    rows = SimSentMessage.objects.filter(created_at__gte=timezone.now() - dt.timedelta(days=7)).order_by("-id")
    return [m for m in rows[:500] if userid in m.touser][:APP_MESSAGES_SHOWN][::-1]


def _conversation(userid: str, external_userid: str):
    return SimChatMessage.objects.filter(userid=userid, external_userid=external_userid).order_by("created_at", "id")


@require_GET
def chat(request: HttpRequest) -> HttpResponse:
    # Only guides chat with customers; listed by store, then userid, the same order every time.
    guides = list(
        Staff.objects.filter(is_active=True, role=Staff.Role.GUIDE)
        .select_related("store")
        .order_by("store__code", "userid", "id")
    )
    wanted = request.GET.get("userid") or request.COOKIES.get(SIM_USERID_COOKIE, "")
    guide = next((g for g in guides if g.userid == wanted), None)
    relations = list(_guide_relations(guide))
    ext = request.GET.get("ext", "")
    relation = next((r for r in relations if r.external_userid == ext), None)

    signed_in = current_staff(request)
    if guide is not None and signed_in is not None and signed_in.userid != guide.userid:
        # Same origin, same session: sign the previous guide out so the sidebar re-runs OAuth as this one.
        logout(request)

    context = {
        "guides": guides,
        "guide": guide,
        "relations": relations,
        "relation": relation,
        "messages": _conversation(guide.userid, relation.external_userid) if relation else [],
        "transfer_waiting": bool(relation)
        and SimTransfer.objects.filter(
            external_userid=relation.external_userid, status=SimTransfer.Status.WAITING
        ).exists(),
        # No chat open: the member's app messages, and the 今日 workbench (WeCom 工作台) beside them.
        "app_messages": _app_messages(guide.userid) if guide and not relation else [],
        # 企业群发 waiting for this member to confirm, as WeCom's 群发助手 lists them.
        "groupmsgs": groupmsg.pending_for(guide.userid) if guide and not relation else [],
        "groupmsg_done": request.GET.get("groupmsg", ""),
        "sidebar_url": reverse("sidebar:home") if relation else reverse("sidebar:today"),
        # 模拟扫码: every 「联系我」 code the product made, scanned as a new customer or one of this guide's.
        "ways": SimContactWay.objects.exclude(user=[]).order_by("-id")[:50],
        "csrf_cookie_name": settings.CSRF_COOKIE_NAME,
    }
    response = render(request, "wecom/chat.html", context)
    if guide is not None:
        response.set_cookie(SIM_USERID_COOKIE, guide.userid, samesite="Lax", httponly=True)
    return response


def _conversation_response(request: HttpRequest, userid: str, ext: str, *, error: str = "", status: int = 200):
    relation = _contact(userid, ext).select_related("staff", "customer").first()
    if relation is None:
        return HttpResponse(_("该客户不是这位导购的好友。"), status=404)
    context = {"relation": relation, "messages": _conversation(userid, ext), "error": error}
    return render(request, "wecom/chat.html#conversation", context, status=status)


@require_GET
def conversation(request: HttpRequest) -> HttpResponse:
    return _conversation_response(request, request.GET.get("userid", ""), request.GET.get("ext", ""))


@require_POST
def receive(request: HttpRequest) -> HttpResponse:
    """The customer types a message to the guide."""
    userid = request.POST.get("userid", "")
    ext = request.POST.get("ext", "")
    content = request.POST.get("content", "").strip()
    if not _contact(userid, ext).exists():
        return HttpResponse(_("该客户不是这位导购的好友。"), status=404)
    if not content or len(content) > MAX_TEXT:
        error = _("请输入 1–%(max)s 个字的消息。") % {"max": MAX_TEXT}
        return _conversation_response(request, userid, ext, error=error, status=400)
    chat_message_add(
        userid=userid, external_userid=ext, direction=SimChatMessage.Direction.IN, payload={"content": content}
    )
    archive_notify()
    return _conversation_response(request, userid, ext)


def _require(body: dict, key: str, name: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ChatMessageError(f"{name}.{key} is required")
    return value.strip()


def parse_chat_message(msg: object) -> tuple[str, dict]:
    """Validate a sendChatMessage argument the way WeCom does; returns (msgtype, body)."""
    if not isinstance(msg, dict):
        raise ChatMessageError("invalid arguments")
    msgtype = msg.get("msgtype") or "text"
    body = msg.get(msgtype)
    if msgtype not in {"text", "news", "miniprogram"} | MEDIA_MSGTYPES:
        raise ChatMessageError(f"invalid msgtype {msgtype}")
    if not isinstance(body, dict):
        raise ChatMessageError(f"{msgtype} is required")
    if msgtype == "text":
        content = _require(body, "content", "text")
        if len(content) > MAX_TEXT:
            raise ChatMessageError("text.content too long")
        return msgtype, {"content": content}
    if msgtype in MEDIA_MSGTYPES:
        mediaid = _require(body, "mediaid", msgtype)
        media = SimMedia.objects.filter(media_id=mediaid).first()
        if media is None or media.expired:
            raise ChatMessageError("invalid media_id")
        if media.type != msgtype:
            raise ChatMessageError(f"media_id is a {media.type}, not a {msgtype}")
        return msgtype, {"mediaid": mediaid, "filename": media.filename}
    if msgtype == "news":
        link = _require(body, "link", "news")
        if urlsplit(link).scheme not in {"http", "https"}:
            raise ChatMessageError("news.link must be an http(s) url")
        title = _require(body, "title", "news")
        return msgtype, {"link": link, "title": title, "desc": body.get("desc", ""), "imgUrl": body.get("imgUrl", "")}
    appid = _require(body, "appid", "miniprogram")
    title = _require(body, "title", "miniprogram")
    page = _require(body, "page", "miniprogram")
    img_url = _require(body, "imgUrl", "miniprogram")
    if not page.split("?", 1)[0].endswith(".html"):
        raise ChatMessageError("miniprogram.page must end with .html")
    return msgtype, {"appid": appid, "title": title, "page": page, "imgUrl": img_url}


def _json_body(request: HttpRequest) -> dict | None:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


@require_POST
def send(request: HttpRequest) -> JsonResponse:
    """sendChatMessage from the sidebar, relayed by the chat window: the guide's message goes out."""
    body = _json_body(request)
    if body is None:
        return JsonResponse({"err_msg": "sendChatMessage:fail invalid json"}, status=400)
    userid = str(body.get("userid", ""))
    ext = str(body.get("external_userid", ""))
    if not _contact(userid, ext).exists():
        return JsonResponse({"err_msg": "sendChatMessage:fail not a contact of this member"}, status=400)
    try:
        msgtype, payload = parse_chat_message(body.get("msg"))
    except ChatMessageError as exc:
        return JsonResponse({"err_msg": f"sendChatMessage:fail {exc}"}, status=400)
    row = chat_message_add(
        userid=userid, external_userid=ext, direction=SimChatMessage.Direction.OUT, msgtype=msgtype, payload=payload
    )
    archive_notify()
    return JsonResponse({"err_msg": "sendChatMessage:ok", "id": row.pk})


# Stateless check standing in for WeCom's own verification; the sim SDK calls it without a CSRF token.
@csrf_exempt
@require_POST
def verify_signature(request: HttpRequest) -> JsonResponse:
    """Check a wx.config (kind "config") or wx.agentConfig (kind "agent") signature for a page URL."""
    body = _json_body(request)
    if body is None:
        return JsonResponse({"ok": False, "reason": "invalid json"}, status=400)
    kind = body.get("kind")
    if kind not in {"config", "agent"}:
        return JsonResponse({"ok": False, "reason": "unknown kind"}, status=400)
    if str(body.get("corpid", "")) != settings.WECOM_CORP_ID:
        return JsonResponse({"ok": False, "reason": "invalid corpid"})
    if kind == "agent" and str(body.get("agentid", "")) != str(settings.WECOM_AGENT_ID):
        return JsonResponse({"ok": False, "reason": "invalid agentid"})
    url, timestamp, nonce = str(body.get("url", "")), str(body.get("timestamp", "")), str(body.get("nonceStr", ""))
    if not (url and timestamp and nonce):
        return JsonResponse({"ok": False, "reason": "missing url, timestamp or nonceStr"})
    # Like WeCom, accept only tickets the simulator issued and that are still valid: a signature made
    # with a stale cached ticket fails, which is what bootstrap.js's one retry is for.
    ticket_kind = SimTicket.Kind.AGENT if kind == "agent" else SimTicket.Kind.JSAPI
    tickets = SimTicket.objects.filter(kind=ticket_kind, expires_at__gt=timezone.now()).values_list("ticket", flat=True)
    signature = str(body.get("signature", ""))
    for ticket in tickets:
        expected = jssdk_signature(ticket=ticket, noncestr=nonce, timestamp=timestamp, url=url)
        if constant_time_compare(signature, expected):
            return JsonResponse({"ok": True})
    return JsonResponse({"ok": False, "reason": "invalid signature"})


def _back_to_chat(request: HttpRequest) -> HttpResponse:
    query = {k: request.POST[k] for k in ("userid", "ext") if request.POST.get(k)}
    return redirect(f"{reverse('sim_chat')}?{urlencode(query)}")


@require_POST
def member_depart(request: HttpRequest) -> HttpResponse:
    """What the WeCom admin does when a guide leaves: the member is departed (离职) in WeCom."""
    userid = request.POST.get("userid", "")
    if not SimMember.objects.filter(userid=userid).exists():
        return HttpResponse(_("没有这个成员。"), status=404)
    services.member_depart(userid=userid)
    return _back_to_chat(request)


@require_POST
def transfer_refuse(request: HttpRequest) -> HttpResponse:
    """The customer taps 拒绝 on WeCom's transfer notice."""
    if services.transfer_refuse(external_userid=request.POST.get("ext", "")) is None:
        return HttpResponse(_("这位客户没有等待中的转接。"), status=404)
    return _back_to_chat(request)


@require_POST
def scan(request: HttpRequest) -> HttpResponse:
    """The customer scans a 渠道活码: WeCom adds the friend and calls the product back; the chat with
    whoever WeCom picked opens, showing the welcome the product sent (when it did so in time)."""
    config_id = request.POST.get("config_id", "")
    ext = request.POST.get("ext", "")
    name = request.POST.get("name", "").strip()[:100]
    if ext and not SimExternalContact.objects.filter(external_userid=ext).exists():
        return HttpResponse(_("没有这位客户。"), status=404)
    try:
        result = services.contact_way_scan(config_id=config_id, external_userid=ext, name=name or _("新客户"))
    except services.ScanRefused:
        return HttpResponse(_("这个活码不存在或没有接待成员。"), status=404)
    return redirect(f"{reverse('sim_chat')}?{urlencode({'userid': result.userid, 'ext': result.external_userid})}")


def scan_page(request: HttpRequest, config_id: str) -> HttpResponse:
    """Where the simulated QR image points: a phone "scans" it here as a new customer."""
    way = SimContactWay.objects.filter(config_id=config_id).first()
    if way is None:
        return HttpResponse(_("这个活码不存在。"), status=404)
    return render(request, "wecom/sim_scan.html", {"way": way})
