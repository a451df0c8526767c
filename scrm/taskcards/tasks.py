from celery import shared_task

from scrm.taskcards.reminders import tasks_remind_lagging


@shared_task
def remind_lagging() -> int:
    return tasks_remind_lagging()
