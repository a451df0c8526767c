"""The simulated chat: messages between a member and a contact, and the msgaudit_notify callback they cause."""

import datetime as dt
import logging
import time

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from scrm.wecom.simulator.callbacks import callback_post
from scrm.wecom.simulator.models import SimChatMessage

logger = logging.getLogger(__name__)


def chat_message_add(
    *,
    userid: str,
    external_userid: str,
    direction: str,
    msgtype: str = "text",
    payload: dict | None = None,
    created_at: dt.datetime | None = None,
) -> SimChatMessage:
    return SimChatMessage.objects.create(
        userid=userid,
        external_userid=external_userid,
        direction=direction,
        msgtype=msgtype,
        payload=payload or {},
        created_at=created_at or timezone.now(),
    )


# WeCom calls back about new archived messages at most every 15 seconds.
ARCHIVE_NOTIFY_INTERVAL = 15


def archive_notify() -> None:
    """After a chat message: WeCom's msgaudit_notify callback, throttled as WeCom does; the product's
    minute pull picks up what a skipped notification would have announced."""
    if not cache.add("wecom_sim:msgaudit_notify", "1", timeout=ARCHIVE_NOTIFY_INTERVAL):
        return
    event = {
        "ToUserName": settings.WECOM_CORP_ID,
        "FromUserName": "sys",
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "AgentID": 2000004,
        "Event": "msgaudit_notify",
    }

    def post() -> None:
        try:
            callback_post(event)
        except requests.RequestException as exc:  # the product is down: WeCom would retry, the pull catches up
            logger.warning("msgaudit_notify not delivered: %s", exc)

    transaction.on_commit(post)
