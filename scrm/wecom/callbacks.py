"""WeCom callbacks in: verify, decrypt and store each one in CallbackInbox, then hand it to Celery.

The view answers `success` right after `callback_accept`; scrm.wecom.dispatch applies the stored event.
"""

import datetime as dt
import hashlib
import hmac
import logging
import time

import xmltodict
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wechatpy.crypto import _get_signature
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto

from scrm.wecom.models import CallbackInbox, CallbackNonce
from scrm.wecom.signals import contact_add_received

logger = logging.getLogger(__name__)

# WeCom signs the timestamp; older requests are refused so a captured one cannot be replayed later.
CALLBACK_MAX_SKEW = 300
CALLBACK_MAX_BODY = 64 * 1024
# Fields that identify one event; WeCom's redelivery repeats them exactly.
_KEY_FIELDS = [
    "ToUserName",
    "FromUserName",
    "CreateTime",
    "MsgType",
    "Event",
    "ChangeType",
    "UserID",
    "ExternalUserID",
    "Id",
    "TagType",
    "StrategyId",
    "ChatId",
    "FailReason",
    "MsgId",
]


class CallbackRejected(Exception):
    """The callback is not from WeCom, too old, a replay, or unreadable. The view answers 403."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _crypto() -> WeChatCrypto:
    return WeChatCrypto(settings.WECOM_CALLBACK_TOKEN, settings.WECOM_CALLBACK_AES_KEY, settings.WECOM_CORP_ID)


def _check_query(msg_signature: str, timestamp: str, nonce: str) -> None:
    if not (settings.WECOM_CALLBACK_TOKEN and settings.WECOM_CALLBACK_AES_KEY):
        # With no token anyone could sign; refuse until the deployment sets both.
        raise CallbackRejected(_("回调服务未配置 Token 与 EncodingAESKey"))
    if not (msg_signature and timestamp and nonce) or len(msg_signature) > 64 or len(nonce) > 64:
        raise CallbackRejected(_("缺少或非法的签名参数"))
    try:
        sent = int(timestamp)
    except ValueError:
        raise CallbackRejected(_("时间戳无效")) from None
    if abs(time.time() - sent) > CALLBACK_MAX_SKEW:
        raise CallbackRejected(_("时间戳已过期"))


def _signature_ok(msg_signature: str, timestamp: str, nonce: str, data: str) -> bool:
    expected = _get_signature(settings.WECOM_CALLBACK_TOKEN, timestamp, nonce, data)
    return hmac.compare_digest(expected, msg_signature)


def _decrypt(data: str) -> str:
    try:
        plain = PrpCrypto(_crypto().key).decrypt(data, settings.WECOM_CORP_ID)
    except Exception:  # bad base64, padding, corp id: all mean "not ours"
        raise CallbackRejected(_("无法解密消息")) from None
    return plain.decode() if isinstance(plain, bytes) else plain


def _parse_xml(text: str | bytes) -> dict:
    if isinstance(text, bytes):
        try:
            text = text.decode()
        except UnicodeDecodeError:
            raise CallbackRejected(_("消息不是 UTF-8 编码")) from None
    # WeCom never sends a DTD; refusing one rules out entity-expansion attacks.
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise CallbackRejected(_("消息格式错误"))
    try:
        parsed = xmltodict.parse(text)
    except Exception:
        raise CallbackRejected(_("消息格式错误")) from None
    root = parsed.get("xml") if isinstance(parsed, dict) else None
    if not isinstance(root, dict):
        raise CallbackRejected(_("消息格式错误"))
    return root


CALLBACK_MAX_DEPTH = 10


def _deeper_than(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return False


def callback_verify_url(*, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
    """WeCom's URL check: verify the signature over echostr and answer it decrypted."""
    _check_query(msg_signature, timestamp, nonce)
    if not echostr or not _signature_ok(msg_signature, timestamp, nonce, echostr):
        raise CallbackRejected(_("签名校验失败"))
    return _decrypt(echostr)


def inbox_key(event: dict) -> str:
    raw = "|".join(f"{name}={event.get(name) or ''}" for name in _KEY_FIELDS)
    return hashlib.sha256(raw.encode()).hexdigest()


def callback_accept(*, msg_signature: str, timestamp: str, nonce: str, body: bytes) -> tuple[CallbackInbox, bool]:
    """Verify, decrypt and store one callback; returns (row, created). Raises CallbackRejected.

    A redelivered event (same fields, new signature) returns the stored row with created=False.
    """
    _check_query(msg_signature, timestamp, nonce)
    if not body or len(body) > CALLBACK_MAX_BODY:
        raise CallbackRejected(_("消息体为空或过大"))
    encrypted = _parse_xml(body).get("Encrypt")
    if not isinstance(encrypted, str) or not encrypted:
        raise CallbackRejected(_("消息格式错误"))
    if not _signature_ok(msg_signature, timestamp, nonce, encrypted):
        raise CallbackRejected(_("签名校验失败"))
    event = _parse_xml(_decrypt(encrypted))
    if _deeper_than(event, CALLBACK_MAX_DEPTH):
        # WeCom's events nest a few levels at most; a deep one would only exhaust the JSON encoder.
        raise CallbackRejected(_("消息格式错误"))
    # Nested elements (rare, e.g. UpdateDetail lists) are kept as parsed; ids are plain strings.
    flat = {k: v for k, v in event.items() if v is not None}

    with transaction.atomic():
        try:
            with transaction.atomic():
                CallbackNonce.objects.create(msg_signature=msg_signature, nonce=nonce)
        except IntegrityError:
            # The very same signed request again: WeCom retrying one we answered too slowly, or a
            # replay. Either way the message is stored already; say so rather than fail WeCom's retry.
            stored = CallbackInbox.objects.filter(key=inbox_key(flat)).first()
            if stored is None:
                raise CallbackRejected(_("重复的请求")) from None
            return stored, False
        row, created = CallbackInbox.objects.get_or_create(
            key=inbox_key(flat),
            defaults={
                "event": str(flat.get("Event", ""))[:64],
                "change_type": str(flat.get("ChangeType", ""))[:64],
                "userid": str(flat.get("UserID", ""))[:64],
                "external_userid": str(flat.get("ExternalUserID", ""))[:64],
                "payload": flat,
            },
        )
        if created:
            if row.change_type == "add_external_contact":
                # Announced first (livecodes queues the welcome on its own queue): a WelcomeCode lives 20 s.
                received_at = row.received_at
                transaction.on_commit(
                    lambda: contact_add_received.send(sender=CallbackInbox, payload=flat, received_at=received_at)
                )
            transaction.on_commit(lambda: inbox_dispatch(row.pk))
    return row, created


def inbox_dispatch(row_id: int) -> None:
    """Hand a stored row to Celery for scrm.wecom.dispatch.inbox_process."""
    from scrm.wecom import tasks  # late: tasks import this module

    try:
        tasks.process_callback.delay(row_id)
    except Exception:  # broker unreachable: the row stays pending for the sweep
        logger.warning("callback inbox %s left for the sweep", row_id, exc_info=True)


def callback_nonces_prune(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    # Requests older than CALLBACK_MAX_SKEW are refused anyway, so old nonces can go.
    return CallbackNonce.objects.filter(received_at__lt=timezone.now() - older_than).delete()[0]
