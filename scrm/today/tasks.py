"""Celery entry points of 今日. Thin: the work is in services and push."""

from celery import shared_task

from scrm.today import push, services


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def refresh_reminders(customer_ids: list[int]) -> None:
    urgent = services.reminders_refresh(customer_ids=customer_ids)
    if urgent:
        push_urgent.delay()


@shared_task
def refresh_all_reminders() -> int:
    """Nightly: the days move (birthdays near, windows close) even without new facts."""
    return services.reminders_refresh_all()


@shared_task
def push_digests() -> int:
    return push.digests_send()


@shared_task
def push_urgent() -> int:
    return push.urgent_send()
