"""Tag outbox: a tag edit made here is queued in TagOutbox and pushed to WeCom (mark_tag) by Celery."""

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from scrm.customers.models import Customer, FollowRelation, Tag
from scrm.org.models import Staff
from scrm.wecom import api
from scrm.wecom.errors import WeComError
from scrm.wecom.models import TagOutbox

logger = logging.getLogger(__name__)

TAG_PUSH_MAX_ATTEMPTS = 5


def tag_push_for_local_edit(*, customer: Customer, staff: Staff, tag: Tag, added: bool, **_signal) -> None:
    """Receiver of customers' customer_tag_changed: queue WeCom's mark_tag for a tag edit made here."""
    if not tag.wecom_tag_id:
        return  # A local-only tag has nothing to push.
    # mark_tag acts through a member who has the contact: this guide's relation, else any active one.
    relations = FollowRelation.objects.filter(customer=customer, ended_at__isnull=True).select_related("staff")
    relation = relations.filter(staff=staff).first() or relations.order_by("added_at", "id").first()
    if relation is None:
        return
    tag_outbox_enqueue(
        userid=relation.staff.userid,
        external_userid=relation.external_userid,
        add=[tag.pk] if added else [],
        remove=[] if added else [tag.pk],
    )


def tag_outbox_enqueue(*, userid: str, external_userid: str, add: list[int], remove: list[int]) -> TagOutbox:
    """Queue a mark_tag push for the guide's relation; call inside the local edit's transaction."""
    row = TagOutbox.objects.create(
        userid=userid, external_userid=external_userid, add_tag_ids=list(add), remove_tag_ids=list(remove)
    )
    transaction.on_commit(lambda: tag_outbox_dispatch(row.pk))
    return row


def tag_outbox_dispatch(row_id: int) -> None:
    # Imported late: tasks import this module. If the broker is down the row stays pending
    # and the periodic sweep pushes it.
    from scrm.wecom import tasks

    try:
        tasks.push_tag_outbox.delay(row_id)
    except Exception:  # broker unreachable (or, when eager, an error already recorded on the row)
        logger.warning("tag outbox %s left for the sweep", row_id, exc_info=True)


def tag_outbox_push(*, row_id: int) -> str:
    """Push one pending row with mark_tag; returns the row's new status.

    A retryable WeComError is recorded and re-raised (the task retries it) until the attempts
    run out; a permanent one marks the row failed. The local edit is never touched.
    """
    row = TagOutbox.objects.filter(pk=row_id).first()
    if row is None or row.status != TagOutbox.Status.PENDING:
        return row.status if row else ""
    ids = {*row.add_tag_ids, *row.remove_tag_ids}
    # Local-only tags (no wecom_tag_id) exist only here: nothing to push for them.
    wecom_ids = dict(
        Tag.objects.filter(pk__in=ids, wecom_tag_id__isnull=False)
        .exclude(wecom_tag_id="")
        .values_list("pk", "wecom_tag_id")
    )
    add = [wecom_ids[pk] for pk in row.add_tag_ids if pk in wecom_ids]
    remove = [wecom_ids[pk] for pk in row.remove_tag_ids if pk in wecom_ids]
    try:
        if add or remove:
            api.mark_tag(userid=row.userid, external_userid=row.external_userid, add=add, remove=remove)
    except WeComError as exc:
        attempts = row.attempts + 1
        retry = exc.retryable and attempts < TAG_PUSH_MAX_ATTEMPTS
        status = TagOutbox.Status.PENDING if retry else TagOutbox.Status.FAILED
        TagOutbox.objects.filter(pk=row.pk, status=TagOutbox.Status.PENDING).update(
            attempts=attempts,
            status=status,
            last_error=f"{exc.errcode}: {exc.reason}"[:255],
            processed_at=None if retry else timezone.now(),
        )
        if retry:
            raise
        return status
    TagOutbox.objects.filter(pk=row.pk, status=TagOutbox.Status.PENDING).update(
        attempts=F("attempts") + 1, status=TagOutbox.Status.DONE, last_error="", processed_at=timezone.now()
    )
    return TagOutbox.Status.DONE


def tag_outbox_retry(*, row_ids: list[int]) -> int:
    """Admin's 重新推送: failed (or stuck) rows go back to pending and are dispatched again."""
    rows = list(TagOutbox.objects.filter(pk__in=row_ids).exclude(status=TagOutbox.Status.DONE))
    TagOutbox.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=TagOutbox.Status.PENDING, attempts=0, last_error="", processed_at=None
    )
    for row in rows:
        transaction.on_commit(lambda pk=row.pk: tag_outbox_dispatch(pk))
    return len(rows)


def tag_outbox_pending_ids(*, older_than: dt.timedelta = dt.timedelta(minutes=1)) -> list[int]:
    """Rows the sweep should dispatch again: pending for longer than a dispatch takes."""
    cutoff = timezone.now() - older_than
    return list(
        TagOutbox.objects.filter(status=TagOutbox.Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
