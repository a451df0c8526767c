"""企业群发 in the simulator: the five externalcontact group-message APIs and the member's confirm/ignore.

WeCom shapes (docs 92135, 93338, 97610): add_msg_template answers msgid and fail_list (customers who are
not the sender's friends); nothing reaches a customer until the member confirms in WeCom, which is what
/dev/chat/ offers here. A confirmed send gives each customer status 1 sent, 2 not a friend (any more) or
3 over the monthly quota of brand messages (GROUPSEND_MONTHLY_LIMIT; 0 means as many as the month has
days). remind_groupmsg_send allows 3 reminders per group send in 24 hours, then answers 45009.
Dev and tests only.
"""

import calendar
import datetime as dt
import json

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from scrm.wecom.simulator import services
from scrm.wecom.simulator.api_views import CONTACT, _check_token
from scrm.wecom.simulator.chat import chat_message_add
from scrm.wecom.simulator.endpoints.common import SimError, check_media, cursor_page, member_of
from scrm.wecom.simulator.models import SimFollowUser, SimGroupMsgResult, SimGroupMsgTask, SimMsgTemplate

MAX_EXTERNAL_USERIDS = 10000
MAX_ATTACHMENTS = 9
MAX_RANGE = dt.timedelta(days=31)
REMINDS_PER_DAY = 3
FREQ_LIMIT = 45009  # api freq out of limit


def _ok(**data) -> dict:
    return {"errcode": 0, "errmsg": "ok", **data}


def _limit(body: dict, *, default: int, maximum: int) -> int:
    try:
        limit = int(body.get("limit") or default)
    except (TypeError, ValueError) as exc:
        raise SimError(40058, "invalid limit") from exc
    return min(max(limit, 1), maximum)


def _template(body: dict) -> SimMsgTemplate:
    template = SimMsgTemplate.objects.filter(msgid=body.get("msgid") or "").first()
    if template is None:
        raise SimError(40058, "invalid msgid")
    return template


def monthly_limit(day: dt.date) -> int:
    return settings.GROUPSEND_MONTHLY_LIMIT or calendar.monthrange(day.year, day.month)[1]


def _received_this_month(external_userid: str, now: dt.datetime) -> int:
    start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return SimGroupMsgResult.objects.filter(external_userid=external_userid, status=1, send_time__gte=start).count()


# --- the server API -----------------------------------------------------------------------------


def add_msg_template(body: dict) -> dict:
    text = (body.get("text") or {}).get("content", "") if isinstance(body.get("text"), dict) else ""
    attachments = body.get("attachments") or []
    if not text and not attachments:
        raise SimError(40058, "text or attachments required")
    if not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS:
        raise SimError(40058, f"attachments: at most {MAX_ATTACHMENTS}")
    chat_type = body.get("chat_type") or "single"
    sender = body.get("sender") or ""
    external_userids = list(dict.fromkeys(body.get("external_userid") or []))
    if len(external_userids) > MAX_EXTERNAL_USERIDS:
        raise SimError(40058, f"external_userid: at most {MAX_EXTERNAL_USERIDS}")
    if sender:
        member_of(sender, active=True)
    if not sender and not external_userids:
        raise SimError(40058, "sender or external_userid required")
    check_media(attachments)
    follows = SimFollowUser.objects.filter(member__status="active")
    if sender:
        follows = follows.filter(member__userid=sender)
    if external_userids:
        follows = follows.filter(contact__external_userid__in=external_userids)
    pairs = list(follows.values_list("member__userid", "contact__external_userid").order_by("id"))
    reached = {ext for _userid, ext in pairs}
    fail_list = [e for e in external_userids if e not in reached]
    with transaction.atomic():
        template = SimMsgTemplate.objects.create(
            msgid=services.new_id("msg", 12),
            chat_type=chat_type,
            creator=sender,
            create_type=0,  # made through the API: 企业发表
            external_userids=[e for e in external_userids if e not in fail_list],
            text=text,
            attachments=attachments,
        )
        for userid in dict.fromkeys(u for u, _ext in pairs):
            SimGroupMsgTask.objects.create(template=template, userid=userid)
        SimGroupMsgResult.objects.bulk_create(
            [SimGroupMsgResult(template=template, userid=u, external_userid=e) for u, e in pairs]
        )
    return _ok(fail_list=fail_list, msgid=template.msgid)


def get_groupmsg_list_v2(body: dict) -> dict:
    try:
        start, end = int(body["start_time"]), int(body["end_time"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SimError(40058, "start_time and end_time required") from exc
    if end < start or dt.timedelta(seconds=end - start) > MAX_RANGE:
        raise SimError(40058, "start_time..end_time must be within one month")
    rows = SimMsgTemplate.objects.filter(
        chat_type=body.get("chat_type") or "single",
        created_at__gte=dt.datetime.fromtimestamp(start, tz=dt.UTC),
        created_at__lte=dt.datetime.fromtimestamp(end, tz=dt.UTC),
    ).order_by("id")
    if body.get("creator"):
        rows = rows.filter(creator=body["creator"])
    if body.get("filter_type") in (0, 1):
        rows = rows.filter(create_type=body["filter_type"])
    page, nxt = cursor_page(list(rows), body.get("cursor", ""), _limit(body, default=50, maximum=100))
    items = []
    for row in page:
        item = {
            "msgid": row.msgid,
            "creator": row.creator,
            "create_type": row.create_type,
            "create_time": str(int(row.created_at.timestamp())),
            "attachments": row.attachments,
        }
        if row.text:
            item["text"] = {"content": row.text}
        items.append(item)
    return _ok(group_msg_list=items, next_cursor=nxt)


def _when(value: dt.datetime | None) -> dict:
    return {"send_time": int(value.timestamp())} if value else {}


def get_groupmsg_task(body: dict) -> dict:
    template = _template(body)
    rows = list(template.tasks.order_by("id"))
    page, nxt = cursor_page(rows, body.get("cursor", ""), _limit(body, default=500, maximum=1000))
    return _ok(
        next_cursor=nxt, task_list=[{"userid": t.userid, "status": t.status, **_when(t.send_time)} for t in page]
    )


def get_groupmsg_send_result(body: dict) -> dict:
    template = _template(body)
    if not body.get("userid"):
        raise SimError(40058, "userid required")
    rows = list(template.results.filter(userid=body["userid"]).order_by("id"))
    page, nxt = cursor_page(rows, body.get("cursor", ""), _limit(body, default=500, maximum=1000))
    send_list = [
        {"external_userid": r.external_userid, "userid": r.userid, "status": r.status, **_when(r.send_time)}
        for r in page
    ]
    return _ok(next_cursor=nxt, send_list=send_list)


def remind_groupmsg_send(body: dict) -> dict:
    now = timezone.now()
    with transaction.atomic():
        template = SimMsgTemplate.objects.select_for_update().filter(msgid=body.get("msgid") or "").first()
        if template is None:
            raise SimError(40058, "invalid msgid")
        pending = list(template.tasks.filter(status=0))
        recent = [
            t for t in (pending[0].reminded_at if pending else []) if t > (now - dt.timedelta(days=1)).timestamp()
        ]
        if len(recent) >= REMINDS_PER_DAY:
            raise SimError(FREQ_LIMIT, "api freq out of limit: at most 3 reminders per group send in 24 hours")
        for task in pending:
            task.reminded_at = [*recent, now.timestamp()]
            task.ignored = False  # the reminder brings it back to the member's list
            task.save(update_fields=["reminded_at", "ignored"])
    return _ok()


HANDLERS = {
    "add_msg_template": add_msg_template,
    "get_groupmsg_list_v2": get_groupmsg_list_v2,
    "get_groupmsg_task": get_groupmsg_task,
    "get_groupmsg_send_result": get_groupmsg_send_result,
    "remind_groupmsg_send": remind_groupmsg_send,
}


@csrf_exempt
def api(request: HttpRequest, name: str) -> JsonResponse:
    """/_wecom/cgi-bin/externalcontact/<name>: HTTP 200 with errcode/errmsg, like WeCom."""
    try:
        fault = services.fault_take(path=f"externalcontact/{name}")
        if fault is not None:
            raise SimError(fault.errcode, fault.errmsg)
        _check_token(request, CONTACT)
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise SimError(47001, "data format error") from exc
        if not isinstance(body, dict):
            raise SimError(47001, "data format error")
        result = HANDLERS[name](body)
    except SimError as exc:
        result = {"errcode": exc.errcode, "errmsg": exc.errmsg}
    return JsonResponse(result, json_dumps_params={"ensure_ascii": False})


# --- the member in WeCom (/dev/chat/) ------------------------------------------------------------


def pending_for(userid: str) -> list[SimGroupMsgTask]:
    """Group sends waiting for this member to confirm, newest first."""
    rows = SimGroupMsgTask.objects.filter(userid=userid, status=0, ignored=False).select_related("template")
    return list(rows.order_by("-id")[:20])


def member_confirm(*, template: SimMsgTemplate, userid: str, now: dt.datetime | None = None) -> int:
    """The member taps 发送: each customer gets it, unless no longer a friend or over this month's quota."""
    now = now or timezone.now()
    friends = set(
        SimFollowUser.objects.filter(member__userid=userid).values_list("contact__external_userid", flat=True)
    )
    limit = monthly_limit(timezone.localdate(now))
    sent = 0
    with transaction.atomic():
        task = SimGroupMsgTask.objects.select_for_update().get(template=template, userid=userid)
        if task.status != 0:
            return 0
        for row in template.results.filter(userid=userid, status=0).order_by("id"):
            if row.external_userid not in friends:
                row.status = 2
            elif _received_this_month(row.external_userid, now) >= limit:
                row.status = 3
            else:
                row.status, row.send_time = 1, now
                sent += 1
                payload = {"content": template.text} if template.text else {"content": _("[群发附件]")}
                chat_message_add(userid=userid, external_userid=row.external_userid, direction="out", payload=payload)
            row.save(update_fields=["status", "send_time"])
        task.status, task.send_time = 2, now
        task.save(update_fields=["status", "send_time"])
    return sent


def _back(userid: str, done: str = "") -> HttpResponse:
    """Back to the chat window, saying what happened (as WeCom's 群发助手 shows 已发送)."""
    query = {"userid": userid, **({"groupmsg": done} if done else {})}
    return redirect(f"{reverse('sim_chat')}?{urlencode(query)}")


@require_POST
def confirm(request: HttpRequest, msgid: str) -> HttpResponse:
    userid = request.POST.get("userid", "")
    template = SimMsgTemplate.objects.filter(msgid=msgid, tasks__userid=userid).first()
    if template is None:
        return HttpResponse(_("没有这条待发送的群发。"), status=404)
    member_confirm(template=template, userid=userid)
    return _back(userid, "sent")


@require_POST
def ignore(request: HttpRequest, msgid: str) -> HttpResponse:
    """忽略: the member leaves it unsent (WeCom keeps it unsent; a reminder shows it again)."""
    userid = request.POST.get("userid", "")
    if not SimGroupMsgTask.objects.filter(template__msgid=msgid, userid=userid, status=0).update(ignored=True):
        return HttpResponse(_("没有这条待发送的群发。"), status=404)
    return _back(userid, "ignored")
