from celery import shared_task

from scrm.analytics.services import rollup_recent


@shared_task(acks_late=True)
def rollup_recent_days() -> list[str]:
    """Beat job: keeps yesterday's and today's rollups (and late-refunded days) fresh."""
    return [day.isoformat() for day in rollup_recent()]
