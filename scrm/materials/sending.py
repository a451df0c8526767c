"""Writes behind the sidebar's send button: request ids, send payloads, records and the settle sweep.

A send is two requests around the JS-SDK: `material_send_prepare` builds the sendChatMessage
payload (uploading media only when the cached media_id is missing or about to expire) and hands out
a signed request_id; the page sends, then `material_send_record` stores the outcome once per
request_id.

Prepare already stores the send as pending, because WeCom delivers what the page handed to the JS-SDK
even when the page is gone a moment later (the guide switched customer): a pending send whose page
never reported is settled as sent by `material_sends_settle`. A long script waits for the guide's
confirm, so its pending row is written by the page's "pending" report after the confirm instead.
"""

import datetime as dt
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from scrm.customers.events import material_sent_record
from scrm.customers.models import Customer
from scrm.materials.errors import MaterialSendError
from scrm.materials.media import MEDIA_KINDS, material_media_ensure, material_media_invalidate
from scrm.materials.models import Material, MaterialSend
from scrm.materials.placeholders import material_render_text, material_unknown_placeholders, placeholder_values
from scrm.org.models import Staff
from scrm.wecom.chat_archive import chat_copy_forget
from scrm.wecom.errors import WeComError, admin_action

logger = logging.getLogger(__name__)

# Scripts longer than this open a confirm sheet before they go out.
LONG_SCRIPT = 120
ERROR_MAX = 200
# A page reports within seconds; a pending send older than this lost its page and is settled as sent.
SEND_REPORT_WAIT = dt.timedelta(minutes=2)

_REQUEST_ID = re.compile(r"^(\d{1,18})-([0-9a-f]{16})-([0-9a-f]{20})$")
_SIGN_SALT = "scrm.materials.send"


# --- request ids ------------------------------------------------------------------------------


def _signature(material_id: int, customer_id: int, staff_id: int, nonce: str) -> str:
    value = f"{material_id}:{customer_id}:{staff_id}:{nonce}"
    return salted_hmac(_SIGN_SALT, value, algorithm="sha256").hexdigest()[:20]


def send_request_id(*, material_id: int, customer_id: int, staff_id: int) -> str:
    """A fresh id for one tap, naming the material and signed for this guide and customer."""
    nonce = secrets.token_hex(8)
    return f"{material_id}-{nonce}-{_signature(material_id, customer_id, staff_id, nonce)}"


def send_request_material_id(*, request_id: str, customer_id: int, staff_id: int) -> int | None:
    """The material a request_id was issued for, or None when it is malformed or not this pair's."""
    match = _REQUEST_ID.match(request_id or "")
    if not match:
        return None
    material_id, nonce, signature = int(match.group(1)), match.group(2), match.group(3)
    if not hmac.compare_digest(signature, _signature(material_id, customer_id, staff_id, nonce)):
        return None
    return material_id


# --- prepare and record -----------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedSend:
    request_id: str
    msg: dict
    # Long scripts are shown in full for a confirm before they go out.
    confirm: bool


def absolute_url(url: str) -> str:
    """WeCom's client fetches card images itself, so they need the site's public address."""
    return urljoin(settings.SITE_URL.rstrip("/") + "/", url) if url else ""


def _image_url(material: Material) -> str:
    for field in (material.cover, material.thumbnail):
        if field:
            return absolute_url(field.url)
    if material.kind == Material.Kind.MINIPROGRAM and material.link_url:
        return material.link_url  # a catalogue product's card: the product image's address
    return ""


def material_send_message(
    *, material: Material, customer: Customer, staff: Staff, values: dict[str, str] | None = None, media_id: str = ""
) -> dict:
    """The sendChatMessage argument for a material, shaped as WeCom documents it per msgtype."""
    values = values if values is not None else placeholder_values(customer=customer, staff=staff)
    kind = material.kind
    if kind == Material.Kind.TEXT:
        body = {"content": material_render_text(material=material, customer=customer, staff=staff, values=values)}
        return {"msgtype": "text", "enterChat": True, "text": body}
    if kind in MEDIA_KINDS:
        return {"msgtype": kind, "enterChat": True, kind: {"mediaid": media_id}}
    if kind == Material.Kind.LINK:
        news = {
            "link": material.link_url,
            "title": material.title,
            "desc": material_render_text(material=material, customer=customer, staff=staff, values=values),
            "imgUrl": _image_url(material),
        }
        return {"msgtype": "news", "enterChat": True, "news": news}
    if kind == Material.Kind.MINIPROGRAM:
        card = {
            "appid": material.mp_appid,
            "title": material.title,
            "imgUrl": _image_url(material),
            "page": material.mp_page,
        }
        return {"msgtype": "miniprogram", "enterChat": True, "miniprogram": card}
    raise ValueError(f"unknown material kind {kind}")


def material_send_prepare(
    *, material: Material, customer: Customer, staff: Staff, now: dt.datetime | None = None
) -> PreparedSend:
    """Everything the page needs to send `material` to `customer`; raises MaterialSendError."""
    now = now or timezone.now()
    if not material.is_sendable(now):
        raise MaterialSendError(_("该素材已下架或不在有效期内，不能发送。"), status=409)
    if material.kind in (Material.Kind.TEXT, Material.Kind.LINK):
        unknown = material_unknown_placeholders(content=material.content)
        if unknown:
            # The customer would read the literal braces: refuse, and say whom to ask.
            raise MaterialSendError(
                _("素材含有无法自动填写的占位符（%(names)s），请联系内容运营修改后再发送。")
                % {"names": "、".join(f"{{{name}}}" for name in unknown)},
                status=409,
            )
    media_id = ""
    if material.kind in MEDIA_KINDS:
        try:
            media_id = material_media_ensure(material=material, now=now)
        except WeComError as exc:
            message = admin_action(exc.errcode) or _("上传素材到企业微信失败（错误码 %(code)s），请稍后重试。") % {
                "code": exc.errcode
            }
            raise MaterialSendError(message, status=502) from exc
    msg = material_send_message(material=material, customer=customer, staff=staff, media_id=media_id)
    confirm = material.kind == Material.Kind.TEXT and len(msg["text"]["content"]) > LONG_SCRIPT
    request_id = send_request_id(material_id=material.pk, customer_id=customer.pk, staff_id=staff.pk)
    if not confirm:
        _pending_create(material=material, customer=customer, staff=staff, request_id=request_id, now=now)
    return PreparedSend(request_id=request_id, msg=msg, confirm=confirm)


def _pending_create(*, material: Material, customer: Customer, staff: Staff, request_id: str, now: dt.datetime):
    send, _created = MaterialSend.objects.get_or_create(
        request_id=request_id,
        defaults={
            "material": material,
            "staff": staff,
            "customer": customer,
            "status": MaterialSend.Status.PENDING,
            "sent_at": now,
        },
    )
    return send


def _looks_like_bad_media(error: str) -> bool:
    return "media" in error.lower()


@dataclass(frozen=True)
class SendOutcome:
    send: MaterialSend
    # This report moved the row (a repeat of a stored report does not).
    changed: bool
    # The media_id was refused: the cache is dropped and the page may prepare once more.
    retry: bool


def material_send_record(
    *,
    request_id: str,
    customer: Customer,
    staff: Staff,
    status: str,
    error: str = "",
    now: dt.datetime | None = None,
) -> SendOutcome:
    """Store how one tap ended, once per request_id; a sent one counts and enters the timeline.

    A pending row (written at prepare) takes the first outcome reported. Repeats of the same report
    return the stored row. A failure or cancel followed by a success report of the same request_id
    becomes sent (the message did reach the chat); a sent row stays sent.
    """
    if status not in MaterialSend.Status.values:
        raise MaterialSendError(_("发送结果不正确。"))
    material_id = send_request_material_id(request_id=request_id, customer_id=customer.pk, staff_id=staff.pk)
    if material_id is None:
        raise MaterialSendError(_("发送记录无效，请重新发送。"))
    material = Material.objects.filter(pk=material_id).first()
    if material is None:
        raise MaterialSendError(_("素材已被删除。"), status=404)
    now = now or timezone.now()
    error = (
        "" if status in (MaterialSend.Status.SENT, MaterialSend.Status.PENDING) else (error or "").strip()[:ERROR_MAX]
    )
    with transaction.atomic():
        # Locked so a report racing the settle job (or a second report) moves the row once.
        send = MaterialSend.objects.select_for_update().filter(request_id=request_id).first()
        if send is None:
            send = _pending_create(material=material, customer=customer, staff=staff, request_id=request_id, now=now)
        # The signed request_id names these three: no need to read them again for the count and event.
        send.material, send.customer, send.staff = material, customer, staff
        changed = _send_move(send, status=status, error=error, now=now)
    retry = (
        changed
        and status == MaterialSend.Status.FAILED
        and material.kind in MEDIA_KINDS
        and _looks_like_bad_media(error)
    )
    if retry:
        material_media_invalidate(material_id=material.pk)
    return SendOutcome(send=send, changed=changed, retry=retry)


def material_send_discard(*, request_id: str, customer: Customer, staff: Staff) -> None:
    """Drop a pending send the page could not hand to WeCom (no JS-SDK): nothing reached the chat."""
    if send_request_material_id(request_id=request_id, customer_id=customer.pk, staff_id=staff.pk) is None:
        return
    MaterialSend.objects.filter(request_id=request_id, status=MaterialSend.Status.PENDING).delete()


def _send_move(send: MaterialSend, *, status: str, error: str, now: dt.datetime) -> bool:
    """Apply a reported outcome to a locked row; True when the row changed. Sent is final."""
    current = send.status
    if current == MaterialSend.Status.SENT or status == MaterialSend.Status.PENDING or status == current:
        return False
    if current != MaterialSend.Status.PENDING and status != MaterialSend.Status.SENT:
        return False  # a failed or cancelled row only ever upgrades to sent
    send.status, send.error, send.sent_at = status, error, now
    send.save(update_fields=["status", "error", "sent_at"])
    if status == MaterialSend.Status.SENT:
        _sent_count(send)
    return True


def _sent_count(send: MaterialSend) -> None:
    Material.objects.filter(pk=send.material_id).update(send_count=F("send_count") + 1)
    material_sent_record(send=send)
    chat_copy_forget(
        customer_id=send.customer_id, staff_id=send.staff_id, at=send.sent_at, material_kind=send.material.kind
    )


def material_sends_settle(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Count as sent the pending sends whose page never reported: WeCom delivered what it was handed."""
    now = now or timezone.now()
    settled = 0
    ids = list(
        MaterialSend.objects.filter(status=MaterialSend.Status.PENDING, sent_at__lt=now - SEND_REPORT_WAIT)
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    for send_id in ids:
        with transaction.atomic():
            send = (
                MaterialSend.objects.select_for_update()
                .select_related("material", "staff", "customer")
                .filter(pk=send_id, status=MaterialSend.Status.PENDING)
                .first()
            )
            if send is not None:
                # The tap's time, not the settle's: the message went out when the guide tapped.
                settled += _send_move(send, status=MaterialSend.Status.SENT, error="", now=send.sent_at)
    if settled:
        logger.info("settled %s material sends whose page never reported", settled)
    return settled
