"""Celery entry points for customer hand-over. Thin: the logic lives in scrm.handover.services and .results."""

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from scrm.handover import results, services
from scrm.wecom.errors import WeComError

SEND_MAX_RETRIES = 5


def _backoff(retries: int) -> int:
    # Celery's own exponential backoff with full jitter (what retry_backoff/retry_jitter use): after a
    # WeCom rate limit, many waiting tasks must not all come back in the same second.
    return get_exponential_backoff_interval(factor=10, retries=retries, maximum=600, full_jitter=True)


@shared_task(bind=True, acks_late=True, max_retries=SEND_MAX_RETRIES)
def send_batch(self, batch_id: int) -> int:
    """Send a batch's pending items to WeCom; rate limits and busy answers are retried with backoff."""
    tries = 0
    while True:
        try:
            return services.handover_batch_send(batch_id=batch_id)
        except WeComError as exc:
            # Only retryable errors get here, with the failing chunk already back to pending.
            if not self.request.is_eager:
                raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
            # Eager (dev without Redis, tests): no worker comes back later, so retry now; past the
            # limit the items stay pending for the poll's sweep.
            tries += 1
            if tries >= SEND_MAX_RETRIES:
                return 0


@shared_task
def poll_results() -> dict:
    """Beat: transfer_result for waiting items; resend what lost its dispatch."""
    return results.handover_results_poll()
