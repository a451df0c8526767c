"""Before a task's deadline, guides who still have customers to send to get one app message."""

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.org.models import Staff
from scrm.taskcards import selectors
from scrm.taskcards.models import Task, TaskNudge
from scrm.wecom import api
from scrm.wecom.errors import WeComError

logger = logging.getLogger(__name__)

# How long before the deadline lagging guides are reminded.
REMIND_BEFORE = dt.timedelta(hours=24)


def nudge_message(*, task: Task, open_items: int) -> dict:
    url = settings.SITE_URL.rstrip("/") + reverse("sidebar:today")
    deadline = timezone.localtime(task.deadline).strftime("%m-%d %H:%M")
    return {
        "msgtype": "textcard",
        "textcard": {
            "title": _("任务「%(name)s」即将截止") % {"name": task.name[:20]},
            "description": _("还有 %(n)s 位客户未发送，截止时间 %(d)s。") % {"n": open_items, "d": deadline},
            "url": url,
            "btntxt": _("去发送"),
        },
    }


def tasks_remind_lagging(*, now: dt.datetime | None = None) -> int:
    """One message per task and lagging guide (TaskNudge is unique); a refused send is retried next run."""
    now = now or timezone.now()
    sent = 0
    for task in selectors.tasks_due_soon(now=now, within=REMIND_BEFORE):
        for staff_id, open_items in selectors.lagging_guides(task=task):
            try:
                with transaction.atomic():
                    nudge = TaskNudge.objects.create(task=task, staff_id=staff_id, open_items=open_items)
            except IntegrityError:
                continue  # reminded already
            staff = Staff.objects.get(pk=staff_id)
            try:
                api.message_send(userids=[staff.userid], msg=nudge_message(task=task, open_items=open_items))
            except WeComError as exc:
                logger.info("task nudge to %s refused: %s", staff.userid, exc.errcode)
                nudge.delete()
                continue
            sent += 1
    return sent
