"""Chat messages into the timeline (轨迹 › 聊天) through WeCom's chat archive, the only documented path.

WeCom calls back with `msgaudit_notify` when new messages are archived (at most every 15 s); we then
pull records after our cursor with the finance SDK, open each with the random key our RSA private key
decrypts, and record one-to-one messages between a guide and a customer. A beat job pulls too, so a
lost notification only delays messages. Each message is recorded once (its msgid is the dedupe key).
"""

import base64
import datetime as dt
import json
import logging
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scrm.customers import events
from scrm.customers.events import EventKind
from scrm.customers.models import Event, FollowRelation
from scrm.wecom.finance_sdk import FinanceSdkError, finance_sdk
from scrm.wecom.models import ChatArchiveCursor

logger = logging.getLogger(__name__)

# WeCom's GetChatData returns at most 1,000 records a call.
PULL_LIMIT = 1000
PULL_ROUNDS = 20
TEXT_MAX = 500
# What a non-text message reads as on the timeline.
KIND_LABELS = {
    "image": "[图片]",
    "voice": "[语音]",
    "video": "[视频]",
    "file": "[文件]",
    "link": "[链接]",
    "weapp": "[小程序]",
    "emotion": "[表情]",
    "location": "[位置]",
    "card": "[名片]",
}


@lru_cache(maxsize=4)
def _private_key(path: str):
    with open(path, "rb") as fh:
        return serialization.load_pem_private_key(fh.read(), password=None)


def random_key_decrypt(encrypt_random_key: str) -> str:
    """WeCom encrypts each record's key with our public key (RSA, PKCS#1 v1.5, base64)."""
    key = _private_key(settings.WECOM_CHAT_ARCHIVE_KEY_FILE)
    return key.decrypt(base64.b64decode(encrypt_random_key), padding.PKCS1v15()).decode()


def _is_customer(account: str) -> bool:
    # External contacts' ids start with wm/wo (wb: a customer-service bot); members' userids do not.
    return account[:2] in ("wm", "wo")


def _text(message: dict) -> str:
    msgtype = message.get("msgtype", "")
    if msgtype == "text":
        return str((message.get("text") or {}).get("content", ""))[:TEXT_MAX]
    label = KIND_LABELS.get(msgtype, f"[{msgtype}]")
    body = message.get(msgtype) or {}
    name = body.get("filename") or body.get("title") or ""
    return f"{label} {name}".strip()[:TEXT_MAX]


def chat_message_record(message: dict) -> bool:
    """One archived message on the customer's timeline; False when it is not a guide–customer chat."""
    if message.get("action") != "send" or message.get("roomid"):
        return False  # recalls, switch logs and group chats are not a guide's one-to-one conversation
    sender, receivers = str(message.get("from", "")), [str(x) for x in message.get("tolist") or []]
    if len(receivers) != 1:
        return False
    incoming = _is_customer(sender)
    external_userid, userid = (sender, receivers[0]) if incoming else (receivers[0], sender)
    if _is_customer(userid) or not _is_customer(external_userid):
        return False
    relation = (
        FollowRelation.objects.select_related("customer", "staff")
        .filter(staff__userid=userid, external_userid=external_userid)
        .order_by("ended_at")  # the live relation first
        .first()
    )
    if relation is None:
        return False
    text = _text(message)
    occurred_at = dt.datetime.fromtimestamp(int(message.get("msgtime", 0)) / 1000, tz=dt.UTC)
    if not incoming and _sent_from_sidebar(relation, occurred_at, message.get("msgtype", "")):
        return False  # the timeline already shows it as 发送素材 / 完成任务: one entry per send
    _event, created = events.chat_message_record(
        relation=relation,
        incoming=incoming,
        msgid=message.get("msgid"),
        msgtype=message.get("msgtype"),
        text=text,
        occurred_at=occurred_at,
    )
    return created


SEND_MATCH = dt.timedelta(minutes=2)
# The archive's msgtype for what a material send puts in the chat (news is archived as link).
ARCHIVED_AS = {
    "text": "text",
    "image": "image",
    "video": "video",
    "file": "file",
    "link": "link",
    "miniprogram": "weapp",
}


def _sent_from_sidebar(relation: FollowRelation, at: dt.datetime, msgtype: str) -> bool:
    """A guide's message that the sidebar sent (a material, a task card) and already recorded.

    A material send only accounts for a message of its own type: the guide's own words typed right
    after sending a picture stay on the timeline. A task card may carry text and attachments.
    """
    nearby = Event.objects.filter(
        customer_id=relation.customer_id,
        staff_id=relation.staff_id,
        occurred_at__range=(at - SEND_MATCH, at + SEND_MATCH),
    )
    kinds = [kind for kind, archived in ARCHIVED_AS.items() if archived == msgtype]
    # One query per archived message the guide sent, however it turns out (an empty `kinds` matches nothing).
    material = Q(kind=EventKind.MATERIAL_SENT, payload__material_kind__in=kinds)
    return nearby.filter(Q(kind=EventKind.TASK_DONE) | material).exists()


def chat_copy_forget(*, customer_id: int, staff_id: int, at: dt.datetime, material_kind: str | None) -> int:
    """A sidebar send reported after the archive already pulled its chat copy: drop that copy, so the
    timeline shows one entry per send whichever arrives first (the mirror of `_sent_from_sidebar`).

    A material accounts for the nearest message of its own type; a task card (`material_kind` None)
    for every message the guide sent around it, as it may carry text and attachments.
    """
    copies = Event.objects.filter(
        customer_id=customer_id,
        staff_id=staff_id,
        kind=EventKind.CHAT_MESSAGE,
        payload__direction="out",
        occurred_at__range=(at - SEND_MATCH, at + SEND_MATCH),
    )
    if material_kind is not None:
        msgtype = ARCHIVED_AS.get(material_kind)
        nearest = copies.filter(payload__msgtype=msgtype).order_by("-occurred_at").first() if msgtype else None
        copies = copies.filter(pk=nearest.pk) if nearest else copies.none()
    return copies.delete()[0]


def _open(record: dict, sdk) -> dict | None:
    try:
        random_key = random_key_decrypt(record["encrypt_random_key"])
        return json.loads(sdk.decrypt_data(random_key=random_key, encrypt_chat_msg=record["encrypt_chat_msg"]))
    except (KeyError, ValueError, FinanceSdkError) as exc:
        # One unreadable record (a rotated key) must not stop the archive: skip it, say so.
        logger.warning("chat archive record seq %s unreadable: %s", record.get("seq"), exc)
        return None


def chat_archive_pull(*, limit: int = PULL_LIMIT) -> int:
    """Read new archive records into the timeline; returns how many messages were recorded."""
    sdk = finance_sdk()
    if sdk is None:
        return 0
    recorded = 0
    for _round in range(PULL_ROUNDS):
        with transaction.atomic():
            # Locked: two pulls (a notification and the beat job) never read the same records.
            cursor = ChatArchiveCursor.objects.select_for_update().filter(pk=1).first()
            if cursor is None:
                cursor, _created = ChatArchiveCursor.objects.get_or_create(pk=1)
                cursor = ChatArchiveCursor.objects.select_for_update().get(pk=1)
            records = sdk.get_chat_data(seq=cursor.seq, limit=limit)
            for record in records:
                message = _open(record, sdk)
                if message is not None:
                    recorded += chat_message_record(message)
                cursor.seq = max(cursor.seq, int(record.get("seq", 0)))
            cursor.pulled_at = timezone.now()
            cursor.save(update_fields=["seq", "pulled_at"])
        if len(records) < limit:
            break
    return recorded
