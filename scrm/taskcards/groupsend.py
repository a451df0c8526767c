"""企业群发: a task whose guides send through WeCom's group send instead of one tap per customer.

At creation each guide's items are split into batches of at most GROUPSEND_BATCH_SIZE customers
(WeCom takes 10,000 external_userid per add_msg_template). From the start time each batch becomes one
add_msg_template call with the guide as sender; the guide then confirms it in WeCom. A batch is claimed
(`submitting_at`) before the call and its msgid stored right after, so a retry after a crash first looks
for the group send it may already have made (get_groupmsg_list_v2) instead of making a second one.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from scrm.customers.models import FollowRelation
from scrm.livecodes.services import welcome_attachment
from scrm.materials.sending import MaterialSendError
from scrm.taskcards.models import GroupSendBatch, GroupSendResult, Task, TaskItem
from scrm.wecom import api
from scrm.wecom.errors import WeComError

logger = logging.getLogger(__name__)

# How far back a retry looks for the group send an interrupted call may have made.
RECOVER_WINDOW = dt.timedelta(minutes=10)


def groupsend_plan(*, task: Task) -> int:
    """Batches for every guide's items; returns how many. Planning twice changes nothing."""
    size = settings.GROUPSEND_BATCH_SIZE
    made = 0
    staff_ids = task.items.filter(batch__isnull=True).values_list("staff_id", flat=True).distinct()
    for staff_id in sorted(set(staff_ids)):
        ids = list(task.items.filter(staff_id=staff_id, batch__isnull=True).order_by("pk").values_list("pk", flat=True))
        taken = GroupSendBatch.objects.filter(task=task, staff_id=staff_id).count()
        for n, start in enumerate(range(0, len(ids), size), start=taken + 1):
            batch = GroupSendBatch.objects.create(task=task, staff_id=staff_id, number=n)
            TaskItem.objects.filter(pk__in=ids[start : start + size]).update(batch=batch)
            made += 1
    return made


def batch_external_userids(batch: GroupSendBatch) -> dict[str, int]:
    """external_userid → item id for the batch's customers (the guide's relation, newest first)."""
    items = dict(batch.items.values_list("customer_id", "pk"))
    relations = (
        FollowRelation.objects.filter(staff_id=batch.staff_id, customer_id__in=list(items))
        .order_by("customer_id", "-added_at")
        .values_list("customer_id", "external_userid")
    )
    by_ext: dict[str, int] = {}
    seen: set[int] = set()
    for customer_id, ext in relations:
        if customer_id not in seen and ext:
            seen.add(customer_id)
            by_ext[ext] = items[customer_id]
    return by_ext


def message_body(*, task: Task) -> tuple[str, list[dict]]:
    """The text and WeCom attachments (media uploaded through the material library's cache)."""
    attachments = [welcome_attachment(m) for m in task.attachments.order_by("pk")]
    return task.script, attachments


def _recover_msgid(batch: GroupSendBatch, text: str, now: dt.datetime) -> str:
    """The msgid of a group send an interrupted earlier attempt made, if WeCom lists one."""
    since = batch.submitting_at - RECOVER_WINDOW
    used = set(GroupSendBatch.objects.exclude(msgid="").values_list("msgid", flat=True))
    items, _cursor = api.get_groupmsg_list_v2(
        start_time=int(since.timestamp()), end_time=int(now.timestamp()) + 60, creator=batch.staff.userid, filter_type=0
    )
    for item in items:
        if item.get("msgid") not in used and (item.get("text") or {}).get("content", "") == text:
            return item["msgid"]
    return ""


def _claim(batch: GroupSendBatch, now: dt.datetime) -> bool:
    """Only one worker submits a batch: the one whose conditional update wins."""
    claimed = GroupSendBatch.objects.filter(
        pk=batch.pk, state=GroupSendBatch.State.PLANNED, submitting_at=batch.submitting_at
    ).update(submitting_at=now)
    return bool(claimed)


def _created(batch: GroupSendBatch, msgid: str, fail_list: list[str], by_ext: dict[str, int]) -> None:
    batch.state, batch.msgid, batch.fail_list, batch.error = GroupSendBatch.State.CREATED, msgid, fail_list, ""
    batch.save(update_fields=["state", "msgid", "fail_list", "error"])
    failed = [by_ext[e] for e in fail_list if e in by_ext]
    TaskItem.objects.filter(pk__in=failed).update(wecom_status=GroupSendResult.NOT_FRIEND)


def batch_submit(*, batch: GroupSendBatch, now: dt.datetime | None = None) -> str:
    """Make the batch's WeCom group send once; returns its msgid ("" when not made this time)."""
    now = now or timezone.now()
    if batch.state != GroupSendBatch.State.PLANNED:
        return batch.msgid
    task, by_ext = batch.task, batch_external_userids(batch)
    text = task.script
    if batch.submitting_at:
        try:
            msgid = _recover_msgid(batch, text, now)
        except WeComError as exc:
            logger.info("group send batch %s: cannot check for an earlier send (%s), later", batch.pk, exc.errcode)
            return ""  # sending blind could make a second group send; the next run checks again
        if msgid:
            _created(batch, msgid, [], by_ext)
            return msgid
    if not _claim(batch, now):
        return ""
    batch.submitting_at = now
    if not by_ext:
        batch.state, batch.error = GroupSendBatch.State.FAILED, "no customers with an external_userid"
        batch.save(update_fields=["state", "error"])
        return ""
    try:
        text, attachments = message_body(task=task)
        result = api.add_msg_template(
            sender=batch.staff.userid, external_userids=list(by_ext), text=text, attachments=attachments
        )
    except (WeComError, MaterialSendError) as exc:
        retryable = getattr(exc, "retryable", False)
        batch.error = str(exc)[:255]
        if not retryable:
            batch.state = GroupSendBatch.State.FAILED
        batch.save(update_fields=["state", "error"])
        logger.info("group send batch %s refused: %s", batch.pk, batch.error)
        return ""
    _created(batch, result["msgid"], result["fail_list"], by_ext)
    return result["msgid"]


def task_groupsend_submit(*, task: Task, now: dt.datetime | None = None) -> int:
    """Submit the task's planned batches once it has started; returns how many were made now."""
    now = now or timezone.now()
    if task.kind != Task.Kind.GROUPSEND or not task.starts_at <= now < task.deadline:
        return 0
    made = 0
    for batch in task.batches.filter(state=GroupSendBatch.State.PLANNED).select_related("task", "staff"):
        made += bool(batch_submit(batch=batch, now=now))
    return made


def tasks_groupsend_due(*, now: dt.datetime | None = None) -> list[int]:
    """Group-send tasks running now with batches still to submit."""
    now = now or timezone.now()
    running = Q(kind=Task.Kind.GROUPSEND, starts_at__lte=now, deadline__gt=now)
    planned = Q(batches__state=GroupSendBatch.State.PLANNED)
    return list(Task.objects.filter(running & planned).values_list("pk", flat=True).distinct())
