"""Batch tag / untag a segment: a row per batch, worked through in chunks by a Celery task.

Each customer goes through customers' own tag services (timeline event, and the WeCom app's tag
outbox through its signal), so a batch edit is the same as a guide's edit in the sidebar, only many.
The batch keeps a cursor, so a worker restart resumes where it stopped and nobody is tagged twice.
"""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from scrm.customers.models import Tag
from scrm.customers.services import customer_tag_add, customer_tag_remove
from scrm.org.models import Staff
from scrm.segments.models import Segment, TagBatch
from scrm.segments.selectors import segment_customers

logger = logging.getLogger(__name__)
CHUNK = 200


def tag_batch_start(*, segment: Segment, tag: Tag, add: bool, staff: Staff, request_key: str) -> TagBatch:
    """Start (once per request_key) and hand the work to the worker after commit."""
    action = TagBatch.Action.ADD if add else TagBatch.Action.REMOVE
    try:
        with transaction.atomic():
            batch = TagBatch.objects.create(
                segment=segment,
                tag=tag,
                action=action,
                staff=staff,
                request_key=request_key,
                total=segment_customers(segment=segment).count(),
            )
    except IntegrityError:
        return TagBatch.objects.get(request_key=request_key)
    transaction.on_commit(lambda: _dispatch(batch.pk))
    return batch


def _dispatch(batch_id: int) -> None:
    from scrm.segments import tasks  # late: tasks import this module

    try:
        tasks.run_tag_batch.delay(batch_id)
    except Exception:  # broker down: the nightly sweep picks unfinished batches up
        logger.warning("tag batch %s left for the sweep", batch_id, exc_info=True)


def tag_batch_run(*, batch_id: int, chunk: int = CHUNK) -> TagBatch:
    batch = TagBatch.objects.select_related("segment", "tag__group", "staff").get(pk=batch_id)
    if batch.status == TagBatch.Status.DONE:
        return batch
    TagBatch.objects.filter(pk=batch.pk).update(status=TagBatch.Status.RUNNING)
    edit = customer_tag_add if batch.action == TagBatch.Action.ADD else customer_tag_remove
    customers = segment_customers(segment=batch.segment).order_by("pk")
    while rows := list(customers.filter(pk__gt=batch.cursor)[:chunk]):
        changed = 0
        with transaction.atomic():
            for customer in rows:
                changed += bool(edit(customer=customer, tag=batch.tag, staff=batch.staff))
            batch.cursor, batch.processed, batch.changed = (
                rows[-1].pk,
                batch.processed + len(rows),
                batch.changed + changed,
            )
            batch.save(update_fields=["cursor", "processed", "changed"])
    batch.status, batch.finished_at = TagBatch.Status.DONE, timezone.now()
    # The segment may have grown while the batch ran: the total is what was done.
    batch.total = max(batch.total, batch.processed)
    batch.save(update_fields=["status", "finished_at", "total"])
    return batch


def tag_batches_resume(*, now=None) -> int:
    """Batches a lost dispatch or a dead worker left unfinished (an hour old: not one still running)."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=1)
    stale = TagBatch.objects.exclude(status=TagBatch.Status.DONE).filter(created_at__lt=cutoff)
    ids = list(stale.values_list("pk", flat=True))
    for batch_id in ids:
        tag_batch_run(batch_id=batch_id)
    return len(ids)
