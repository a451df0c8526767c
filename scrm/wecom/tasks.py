"""Celery entry points for WeCom work. Thin: the logic lives in callbacks, dispatch, tag_outbox and sync."""

import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.core.cache import cache

from scrm.wecom import callbacks, chat_archive, dispatch, sync, tag_outbox
from scrm.wecom.errors import WeComError

logger = logging.getLogger(__name__)


def _backoff(retries: int) -> int:
    # Celery's own exponential backoff with full jitter (what retry_backoff/retry_jitter use): after a
    # WeCom rate limit, many waiting tasks must not all come back in the same second.
    return get_exponential_backoff_interval(factor=10, retries=retries, maximum=600, full_jitter=True)


@shared_task(bind=True, acks_late=True, max_retries=tag_outbox.TAG_PUSH_MAX_ATTEMPTS)
def push_tag_outbox(self, row_id: int) -> str:
    """Push one TagOutbox row to WeCom (mark_tag), retrying rate limits with backoff."""
    while True:
        try:
            return tag_outbox.tag_outbox_push(row_id=row_id)
        except WeComError as exc:
            # Only retryable errors get here; the attempt is already recorded on the row, and
            # the service marks it failed once attempts run out, so this ends.
            if not self.request.is_eager:
                raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
            # Eager (dev without Redis, tests): no worker comes back later, so retry now.


@shared_task
def sweep_tag_outbox() -> int:
    """Re-dispatch rows whose dispatch was lost (broker down, worker died)."""
    ids = tag_outbox.tag_outbox_pending_ids()
    for row_id in ids:
        tag_outbox.tag_outbox_dispatch(row_id)
    return len(ids)


@shared_task(acks_late=True)
def process_callback(row_id: int) -> str:
    """Apply one stored WeCom callback; failures are recorded on the row, never raised."""
    status = dispatch.inbox_process(row_id=row_id)
    # With the request id of the callback that stored it (scrm.observe.requestid): one grep follows both.
    logger.info("callback inbox %s: %s", row_id, status)
    return status


@shared_task
def sweep_callback_inbox() -> int:
    """Process callbacks left pending (broker down when they came, or a retryable failure)."""
    ids = dispatch.inbox_pending_ids()
    for row_id in ids:
        dispatch.inbox_process(row_id=row_id)
    callbacks.callback_nonces_prune()
    return len(ids)


@shared_task
def pull_chat_archive() -> int:
    """Beat: read archived chat messages into the timeline (a lost msgaudit_notify only delays them)."""
    return chat_archive.chat_archive_pull()


SYNC_LOCK = "wecom-sync-running"
SYNC_TIME_LIMIT = 3 * 3600


@shared_task(soft_time_limit=SYNC_TIME_LIMIT, time_limit=SYNC_TIME_LIMIT + 300)
def wecom_sync() -> dict:
    """Nightly full pull of members, corp tags and every member's customers; never two at once (a slow
    night's run would otherwise overlap the next one, doubling WeCom calls against the same limits)."""
    if not cache.add(SYNC_LOCK, "1", timeout=SYNC_TIME_LIMIT + 300):
        return {"skipped": "already running"}
    try:
        return sync.wecom_sync_all().as_dict()
    finally:
        cache.delete(SYNC_LOCK)
