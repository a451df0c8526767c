"""Celery entry points of 渠道活码. The welcome and user-list pushes go to the `welcome` queue
(CELERY_TASK_ROUTES), which a dedicated worker consumes, so they never wait behind syncs or sweeps."""

import datetime as dt

from celery import shared_task

from scrm.livecodes import services, sync, welcome_sweep
from scrm.wecom.errors import WeComError

WELCOME_QUEUE = "welcome"


@shared_task(acks_late=True, soft_time_limit=20, time_limit=25)
def send_welcome(welcome_code: str, userid: str, external_userid: str, state: str, received_at: str) -> str:
    row = services.welcome_send(
        welcome_code=welcome_code,
        userid=userid,
        external_userid=external_userid,
        state=state,
        received_at=dt.datetime.fromisoformat(received_at),
    )
    return row.status if row else ""


@shared_task(bind=True, acks_late=True, max_retries=5)
def sync_code(self, code_id: int, reason: str = "", detail: str = "") -> str:
    try:
        return sync.livecode_sync(code_id=code_id, reason=reason, detail=detail)
    except WeComError as exc:
        if self.request.is_eager:
            return "failed"  # recorded on the code; the minute sweep tries again
        raise self.retry(exc=exc, countdown=5 * (self.request.retries + 1)) from exc


@shared_task
def sync_due() -> int:
    """Every minute: working hours begin and end, a new day clears the caps, lost pushes catch up."""
    return sync.livecodes_sync_due()


@shared_task
def settle_stale_welcomes() -> int:
    """Every minute: welcomes left `sending` by a worker that died are marked failed (never resent)."""
    return welcome_sweep.welcome_sends_settle_stale()
