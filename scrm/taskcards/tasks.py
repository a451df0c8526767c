from celery import shared_task

from scrm.taskcards import groupsend, groupsend_results
from scrm.taskcards.models import GroupSendBatch, Task
from scrm.taskcards.reminders import tasks_remind_lagging


@shared_task
def remind_lagging() -> int:
    return tasks_remind_lagging()


@shared_task
def groupsend_submit(task_id: int) -> int:
    task = Task.objects.filter(pk=task_id).first()
    return groupsend.task_groupsend_submit(task=task) if task else 0


@shared_task
def groupsends_submit_due() -> int:
    for task_id in groupsend.tasks_groupsend_due():
        groupsend_submit.delay(task_id)
    return 0


@shared_task
def groupsend_pull(task_id: int) -> int:
    task = Task.objects.filter(pk=task_id).first()
    return groupsend_results.task_groupsend_pull(task=task) if task else 0


@shared_task
def groupsends_pull() -> int:
    for task_id in groupsend_results.tasks_groupsend_pullable():
        groupsend_pull.delay(task_id)
    return 0


@shared_task
def groupsend_remind(batch_id: int) -> None:
    batch = GroupSendBatch.objects.filter(pk=batch_id).first()
    if batch is not None:
        groupsend_results.batch_remind_send(batch=batch)
