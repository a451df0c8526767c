"""企业群发 results: who sent it (get_groupmsg_task), who received it (get_groupmsg_send_result), reminders
(remind_groupmsg_send).

Pulled by Celery beat and on demand from the task's page. A received customer completes their item
(state sent, sent_at = WeCom's send_time), which is what the monthly quota counts, and adds task_done
to their timeline once.
"""

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from scrm.customers.events import task_done_record
from scrm.taskcards.groupsend import batch_external_userids
from scrm.taskcards.models import GroupSendBatch, GroupSendResult, Task, TaskItem
from scrm.wecom import api
from scrm.wecom.errors import WeComError

logger = logging.getLogger(__name__)

MEMBER_SENT = 2  # get_groupmsg_task: 0 not sent, 2 sent
REMIND_LIMIT_ERRCODES = frozenset({45009})
REMINDS_PER_DAY = 3
REMIND_WINDOW = dt.timedelta(hours=24)
REMIND_LIMIT_MESSAGE = _lazy("企业微信每条群发 24 小时内最多提醒 3 次，今天的次数已用完，请明天再提醒。")
# Results stop changing once guides had their chance: pulled until this long after the deadline.
PULL_AFTER_DEADLINE = dt.timedelta(days=3)


class GroupSendError(Exception):
    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _when(value) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC) if value else None
    except (TypeError, ValueError):
        return None


def _paged(call, **kwargs) -> list[dict]:
    rows, cursor = call(**kwargs)
    while cursor:
        more, cursor = call(cursor=cursor, **kwargs)
        rows += more
    return rows


def _apply_results(batch: GroupSendBatch, send_list: list[dict], now: dt.datetime) -> int:
    """Store each customer's status; returns how many became received now."""
    by_ext = batch_external_userids(batch)
    received = 0
    for row in send_list:
        item_id = by_ext.get(row.get("external_userid", ""))
        status = row.get("status")
        if item_id is None or status not in GroupSendResult.values:
            continue
        with transaction.atomic():
            item = TaskItem.objects.select_for_update().select_related("customer", "staff").get(pk=item_id)
            if item.state == TaskItem.State.SENT or item.wecom_status == status:
                continue
            item.wecom_status = status
            if status == GroupSendResult.RECEIVED:
                item.state, item.sent_at = TaskItem.State.SENT, _when(row.get("send_time")) or now
                received += 1
            item.save(update_fields=["wecom_status", "state", "sent_at"])
            if status == GroupSendResult.RECEIVED:
                task = batch.task
                task_done_record(
                    customer=item.customer, staff=item.staff, task_id=task.pk, task_name=task.name,
                    item_id=item.pk, occurred_at=item.sent_at,
                )  # fmt: skip
    return received


def batch_pull(*, batch: GroupSendBatch, now: dt.datetime | None = None) -> int:
    """Refresh one batch from WeCom; returns the customers newly reported received."""
    now = now or timezone.now()
    userid = batch.staff.userid
    tasks = _paged(api.get_groupmsg_task, msgid=batch.msgid)
    mine = next((t for t in tasks if t.get("userid") == userid), None)
    if mine and mine.get("status") == MEMBER_SENT and batch.state != GroupSendBatch.State.SENT:
        batch.state, batch.sent_at = GroupSendBatch.State.SENT, _when(mine.get("send_time")) or now
    received = 0
    if batch.state == GroupSendBatch.State.SENT:
        received = _apply_results(batch, _paged(api.get_groupmsg_send_result, msgid=batch.msgid, userid=userid), now)
    batch.pulled_at = now
    batch.save(update_fields=["state", "sent_at", "pulled_at"])
    return received


def _pullable() -> Q:
    waiting = Q(state=GroupSendBatch.State.CREATED)
    unsettled = Q(state=GroupSendBatch.State.SENT, items__state=TaskItem.State.OPEN, items__wecom_status__isnull=True)
    return (waiting | unsettled) & ~Q(msgid="")


def task_groupsend_pull(*, task: Task, now: dt.datetime | None = None) -> int:
    """Pull every batch of the task still waiting for a result; WeCom errors skip to the next batch."""
    now = now or timezone.now()
    received = 0
    batches = GroupSendBatch.objects.filter(_pullable(), task=task).distinct().select_related("task", "staff")
    for batch in batches:
        try:
            received += batch_pull(batch=batch, now=now)
        except WeComError as exc:
            logger.info("group send batch %s pull failed: %s", batch.pk, exc.errcode)
    return received


def tasks_groupsend_pullable(*, now: dt.datetime | None = None) -> list[int]:
    now = now or timezone.now()
    rows = GroupSendBatch.objects.filter(_pullable(), task__deadline__gt=now - PULL_AFTER_DEADLINE)
    return sorted(set(rows.values_list("task_id", flat=True)))


def batch_remind_send(*, batch: GroupSendBatch) -> None:
    """The WeCom call; a refusal is kept on the batch for the task's page."""
    try:
        api.remind_groupmsg_send(msgid=batch.msgid)
    except WeComError as exc:
        message = str(REMIND_LIMIT_MESSAGE) if exc.errcode in REMIND_LIMIT_ERRCODES else exc.reason
        batch.error = f"{_('提醒失败')}: {message}"[:255]
        batch.save(update_fields=["error"])
        logger.info("group send batch %s remind refused: %s", batch.pk, exc.errcode)
