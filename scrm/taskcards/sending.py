"""A task card's one-tap send, on the same JS-SDK path as materials (static/sidebar/materials.js).

`task_send_prepare` binds the item's coupon (if any), fills the script and hands out a request_id
signed for this item and guide; the page calls sendChatMessage, then `task_send_record` completes the
item once, with the timeline events task_done and coupon_sent. A double tap prepares twice with the
same coupon and records once.
"""

import datetime as dt
import hmac
import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from scrm.customers.events import coupon_sent_record, task_done_record
from scrm.materials import sending as material_sending
from scrm.materials.placeholders import placeholder_values
from scrm.org.models import Staff
from scrm.taskcards.coupons import CouponError, coupon_for_item
from scrm.taskcards.models import TaskItem
from scrm.taskcards.services import COUPON_PLACEHOLDER
from scrm.wecom.chat_archive import chat_copy_forget

_PLACEHOLDER = re.compile(r"\{([^{}\s]{1,20})\}")
_REQUEST_ID = re.compile(r"^(\d{1,18})-([0-9a-f]{16})-([0-9a-f]{20})$")
_SALT = "scrm.taskcards.send"
STATUSES = ("sent", "failed", "cancelled")


class TaskSendError(Exception):
    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _signature(item_id: int, staff_id: int, nonce: str) -> str:
    return salted_hmac(_SALT, f"{item_id}:{staff_id}:{nonce}", algorithm="sha256").hexdigest()[:20]


def request_id_for(*, item_id: int, staff_id: int) -> str:
    nonce = secrets.token_hex(8)
    return f"{item_id}-{nonce}-{_signature(item_id, staff_id, nonce)}"


def request_id_valid(*, request_id: str, item_id: int, staff_id: int) -> bool:
    match = _REQUEST_ID.match(request_id or "")
    if not match or int(match.group(1)) != item_id:
        return False
    return hmac.compare_digest(match.group(3), _signature(item_id, staff_id, match.group(2)))


def script_render(*, script: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), script)


def item_preview(*, item: TaskItem, staff: Staff) -> str:
    """The script as the customer will read it (the coupon shown as a placeholder until it is bound)."""
    if not item.task.script:
        return ""
    values = placeholder_values(customer=item.customer, staff=staff)
    code = getattr(getattr(item, "coupon", None), "code", None)
    values[COUPON_PLACEHOLDER] = code or _("（发送时自动填入券码）")
    return script_render(script=item.task.script, values=values)


@dataclass(frozen=True)
class PreparedTaskSend:
    request_id: str
    msg: dict
    confirm: bool


def _check(item: TaskItem, staff: Staff, now: dt.datetime) -> None:
    if item.staff_id != staff.pk:
        raise TaskSendError(_("这不是你的任务。"), status=404)
    if item.state == TaskItem.State.SENT:
        raise TaskSendError(_("这个任务已经完成，不用再发送。"), status=409)
    if item.task.starts_at > now:
        raise TaskSendError(_("任务还没开始。"), status=409)
    if item.task.deadline <= now:
        raise TaskSendError(_("任务已截止，不能再发送。"), status=409)


def task_send_prepare(*, item: TaskItem, staff: Staff, now: dt.datetime | None = None) -> PreparedTaskSend:
    now = now or timezone.now()
    _check(item, staff, now)
    task = item.task
    if task.material_id:
        try:
            prepared = material_sending.material_send_prepare(
                material=task.material, customer=item.customer, staff=staff, now=now
            )
        except material_sending.MaterialSendError as exc:
            raise TaskSendError(exc.message, status=exc.status) from exc
        msg, confirm = prepared.msg, prepared.confirm
    else:
        try:
            coupon = coupon_for_item(item=item)
        except CouponError as exc:
            raise TaskSendError(exc.message, status=exc.status) from exc
        values = placeholder_values(customer=item.customer, staff=staff)
        if coupon is not None:
            values[COUPON_PLACEHOLDER] = coupon.code
        content = script_render(script=task.script, values=values)
        msg = {"msgtype": "text", "enterChat": True, "text": {"content": content}}
        confirm = len(content) > material_sending.LONG_SCRIPT
    return PreparedTaskSend(request_id=request_id_for(item_id=item.pk, staff_id=staff.pk), msg=msg, confirm=confirm)


@dataclass(frozen=True)
class TaskSendOutcome:
    item: TaskItem
    status: str
    # True only for the report that completed the item.
    completed: bool


def task_send_record(
    *, item: TaskItem, staff: Staff, request_id: str, status: str, now: dt.datetime | None = None
) -> TaskSendOutcome:
    """How a tap ended. A sent one completes the item once; failures and cancels leave it open."""
    if status not in STATUSES:
        raise TaskSendError(_("发送结果不正确。"))
    if item.staff_id != staff.pk or not request_id_valid(request_id=request_id, item_id=item.pk, staff_id=staff.pk):
        raise TaskSendError(_("发送记录无效，请重新发送。"))
    if status != "sent":
        return TaskSendOutcome(item=item, status=status, completed=False)
    now = now or timezone.now()
    with transaction.atomic():
        locked = TaskItem.objects.select_for_update().select_related("task", "customer").get(pk=item.pk)
        if locked.state == TaskItem.State.SENT:
            return TaskSendOutcome(item=locked, status=status, completed=False)
        locked.state, locked.sent_at, locked.request_id = TaskItem.State.SENT, now, request_id
        locked.save(update_fields=["state", "sent_at", "request_id"])
        task = locked.task
        task_done_record(
            customer=locked.customer,
            staff=staff,
            task_id=task.pk,
            task_name=task.name,
            item_id=locked.pk,
            occurred_at=now,
        )
        chat_copy_forget(customer_id=locked.customer_id, staff_id=staff.pk, at=now, material_kind=None)
        coupon = getattr(locked, "coupon", None) if task.coupon_mode != task.CouponMode.NONE else None
        if coupon is not None:
            coupon_sent_record(
                customer=locked.customer,
                staff=staff,
                task_id=task.pk,
                item_id=locked.pk,
                code=coupon.code,
                occurred_at=now,
            )
    return TaskSendOutcome(item=locked, status=status, completed=True)
