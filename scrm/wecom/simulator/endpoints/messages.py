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
    ok,
)
from scrm.wecom.simulator.models import (
    WELCOME_CODE_TTL,
    SimMember,
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
