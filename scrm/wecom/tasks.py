"""Celery entry points for WeCom work. Thin: the logic lives in services and sync."""

from celery import shared_task

from scrm.wecom import services, sync
from scrm.wecom.errors import WeComError


def _backoff(retries: int) -> int:
    return min(600, 10 * 2**retries)


@shared_task(bind=True, acks_late=True, max_retries=services.TAG_PUSH_MAX_ATTEMPTS)
def push_tag_outbox(self, row_id: int) -> str:
    """Push one TagOutbox row to WeCom (mark_tag), retrying rate limits with backoff."""
    while True:
        try:
            return services.tag_outbox_push(row_id=row_id)
        except WeComError as exc:
            # Only retryable errors get here; the attempt is already recorded on the row, and
            # the service marks it failed once attempts run out, so this ends.
            if not self.request.is_eager:
                raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
            # Eager (dev without Redis, tests): no worker comes back later, so retry now.


@shared_task
def sweep_tag_outbox() -> int:
    """Re-dispatch rows whose dispatch was lost (broker down, worker died)."""
    ids = services.tag_outbox_pending_ids()
    for row_id in ids:
        services.tag_outbox_dispatch(row_id)
    return len(ids)


@shared_task(acks_late=True)
def process_callback(row_id: int) -> str:
    """Apply one stored WeCom callback; failures are recorded on the row, never raised."""
    return services.inbox_process(row_id=row_id)


@shared_task
def sweep_callback_inbox() -> int:
    """Process callbacks left pending (broker down when they came, or a retryable failure)."""
    ids = services.inbox_pending_ids()
    for row_id in ids:
        services.inbox_process(row_id=row_id)
    services.callback_nonces_prune()
    return len(ids)


@shared_task
def wecom_sync() -> dict:
    """Nightly full pull of members, corp tags and every member's customers."""
    return sync.wecom_sync_all().as_dict()
