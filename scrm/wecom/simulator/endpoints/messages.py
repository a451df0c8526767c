"""Simulated messages: welcome messages, customer message templates and their list, app messages."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from scrm.wecom.simulator import services
from scrm.wecom.simulator.chat import chat_message_add
from scrm.wecom.simulator.endpoints.common import (
    SimError,
    check_media,
    check_media_ids,
    cursor_page,
    limit_of,
    member_of,
    ok,
    unix,
)
from scrm.wecom.simulator.models import (
    WELCOME_CODE_TTL,
    SimFollowUser,
    SimMember,
    SimMsgTemplate,
    SimSentMessage,
    SimWelcomeCode,
)


def welcome_send(request: HttpRequest, body: dict) -> dict:
    with transaction.atomic():
        row = SimWelcomeCode.objects.select_for_update().filter(code=body.get("welcome_code") or "").first()
        if row is None or row.used_at or row.created_at + WELCOME_CODE_TTL < timezone.now():
            raise SimError(41051, "invalid welcome_code")
        if not body.get("text") and not body.get("attachments"):
            raise SimError(40058, "text or attachments required")
        check_media(body.get("attachments"))
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        chat_message_add(
            userid=row.userid,
            external_userid=row.external_userid,
            direction="out",
            msgtype="welcome",
            payload={"text": body.get("text") or {}, "attachments": body.get("attachments") or []},
        )
    return ok()


def msg_template_add(request: HttpRequest, body: dict) -> dict:
    if not body.get("text") and not body.get("attachments"):
        raise SimError(40058, "text or attachments required")
    chat_type = body.get("chat_type") or "single"
    sender = body.get("sender") or ""
    external_userids = list(body.get("external_userid") or [])
    if sender:
        member_of(sender, active=True)
    if not sender and not external_userids:
        raise SimError(40058, "sender or external_userid required")
    check_media(body.get("attachments"))
    fail_list = []
    if sender and external_userids:
        mine = set(
            SimFollowUser.objects.filter(
                member__userid=sender, contact__external_userid__in=external_userids
            ).values_list("contact__external_userid", flat=True)
        )
        fail_list = [e for e in external_userids if e not in mine]
    template = SimMsgTemplate.objects.create(
        msgid=services.new_id("msg", 12),
        chat_type=chat_type,
        creator=sender,
        create_type=1 if sender else 0,
        external_userids=[e for e in external_userids if e not in fail_list],
        text=(body.get("text") or {}).get("content", ""),
        attachments=body.get("attachments") or [],
    )
    return ok(fail_list=fail_list, msgid=template.msgid)


def groupmsg_list_v2(request: HttpRequest, body: dict) -> dict:
    try:
        start, end = int(body["start_time"]), int(body["end_time"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SimError(40058, "start_time and end_time required") from exc
    limit = limit_of(body)
    rows = SimMsgTemplate.objects.filter(
        chat_type=body.get("chat_type") or "single",
        created_at__gte=dt.datetime.fromtimestamp(start, tz=dt.UTC),
        created_at__lte=dt.datetime.fromtimestamp(end, tz=dt.UTC),
    ).order_by("id")
    if body.get("creator"):
        rows = rows.filter(creator=body["creator"])
    if body.get("filter_type") in (0, 1):
        rows = rows.filter(create_type=body["filter_type"])
    page, nxt = cursor_page(list(rows), body.get("cursor", ""), limit)
    items = []
    for row in page:
        item = {
            "msgid": row.msgid,
            "creator": row.creator,
            "create_type": row.create_type,
            "create_time": str(unix(row.created_at)),
            "attachments": row.attachments,
        }
        if row.text:
            item["text"] = {"content": row.text}
        items.append(item)
    return ok(group_msg_list=items, next_cursor=nxt)


def _check_template_card(card: dict) -> None:
    if card.get("card_type") not in {"text_notice", "news_notice", "button_interaction", "vote_interaction"}:
        raise SimError(40058, "template_card.card_type invalid")
    action = card.get("card_action") or {}
    if card["card_type"] in {"text_notice", "news_notice"} and not (action.get("type") and action.get("url")):
        raise SimError(40058, "template_card.card_action required")


def _check_app_message_limits(userids: list[str]) -> None:
    """WeCom caps how many app messages one member receives per app per minute and per day; beyond the
    caps (settings WECOM_SIM_APP_MSG_PER_MINUTE / _PER_DAY) the simulator answers 45009."""
    now = timezone.now()
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    recent = list(SimSentMessage.objects.filter(created_at__gte=day_start).values_list("touser", "created_at"))
    minute_ago = now - dt.timedelta(minutes=1)
    for userid in userids:
        today = [at for touser, at in recent if userid in touser]
        if len(today) >= settings.WECOM_SIM_APP_MSG_PER_DAY:
            raise SimError(45009, f"api freq out of limit: {userid} reached the daily app message limit")
        if sum(1 for at in today if at >= minute_ago) >= settings.WECOM_SIM_APP_MSG_PER_MINUTE:
            raise SimError(45009, f"api freq out of limit: {userid} reached the per-minute app message limit")


def message_send(request: HttpRequest, body: dict) -> dict:
    if str(body.get("agentid", "")) != str(settings.WECOM_AGENT_ID):
        raise SimError(301002, "invalid agentid")
    msgtype = body.get("msgtype") or ""
    if msgtype not in body or not isinstance(body.get(msgtype), dict):
        raise SimError(40008, "invalid message type")
    if msgtype in ("image", "voice", "video", "file"):
        check_media_ids([body[msgtype].get("media_id", "")])
    users = [u for u in (body.get("touser") or "").split("|") if u]
    if not users:
        raise SimError(40058, "touser required")
    known = set(
        SimMember.objects.filter(userid__in=users, status=SimMember.Status.ACTIVE).values_list("userid", flat=True)
    )
    if msgtype == "template_card":
        _check_template_card(body[msgtype])
    _check_app_message_limits(sorted(known))
    SimSentMessage.objects.create(
        touser=[u for u in users if u in known], agentid=str(body["agentid"]), msgtype=msgtype, payload=body[msgtype]
    )
    return ok(invaliduser="|".join(u for u in users if u not in known), msgid=services.new_id("m", 8))
