import datetime as dt

from celery import shared_task

from scrm.analytics.services import guide_days_rollup, rollup_recent


@shared_task(acks_late=True)
def rollup_recent_days() -> list[str]:
    """Beat job: keeps yesterday's and today's rollups (and late-refunded days) fresh."""
    return [day.isoformat() for day in rollup_recent()]


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def rollup_day(day: str) -> int:
    return guide_days_rollup(day=dt.date.fromisoformat(day))
