"""What the console asks of a group send: refresh its results, remind a guide. The WeCom calls run in
Celery after commit; the page answers at once (with a clear message when WeCom's limit is reached)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.taskcards.groupsend_results import REMIND_LIMIT_MESSAGE, REMIND_WINDOW, REMINDS_PER_DAY, GroupSendError
from scrm.taskcards.models import GroupSendBatch, Task
from scrm.taskcards.tasks import groupsend_pull, groupsend_remind


def task_groupsend_refresh(*, task: Task) -> None:
    if task.kind != Task.Kind.GROUPSEND:
        raise GroupSendError(_("这个任务不是企业群发。"))
    transaction.on_commit(lambda: groupsend_pull.delay(task.pk))


def _recent_reminders(batch: GroupSendBatch, now: dt.datetime) -> list[float]:
    return [t for t in batch.reminded_at if t > (now - REMIND_WINDOW).timestamp()]


def batch_remind_request(*, batch: GroupSendBatch, now: dt.datetime | None = None) -> int:
    """提醒 pressed: counted here (WeCom allows 3 per group send in 24 hours); returns how many are left."""
    now = now or timezone.now()
    with transaction.atomic():
        batch = GroupSendBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.state != GroupSendBatch.State.CREATED or not batch.msgid:
            raise GroupSendError(_("这位导购已经发送或群发尚未创建，无需提醒。"), status=409)
        recent = _recent_reminders(batch, now)
        if len(recent) >= REMINDS_PER_DAY:
            raise GroupSendError(str(REMIND_LIMIT_MESSAGE), status=429)
        batch.reminded_at = [*recent, now.timestamp()]
        batch.save(update_fields=["reminded_at"])
        transaction.on_commit(lambda: groupsend_remind.delay(batch.pk))
    return REMINDS_PER_DAY - len(batch.reminded_at)
