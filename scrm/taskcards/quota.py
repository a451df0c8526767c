"""Each customer's monthly quota of brand group messages (企业群发).

WeCom lets a customer receive at most so many brand group messages a month — by default as many as the
month has days (GROUPSEND_MONTHLY_LIMIT overrides it; older corps had 4). A message counts once WeCom
reports it received (get_groupmsg_send_result status 1), which is when TaskItem.sent_at is set.
"""

import calendar
import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from scrm.taskcards.models import GroupSendResult, Task, TaskItem


def monthly_limit(*, day: dt.date) -> int:
    return settings.GROUPSEND_MONTHLY_LIMIT or calendar.monthrange(day.year, day.month)[1]


def _month_start(now: dt.datetime) -> dt.datetime:
    return timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def received_this_month(*, customer_ids: Iterable[int], now: dt.datetime | None = None) -> dict[int, int]:
    """Brand group messages each customer received since the 1st of this month (absent: none)."""
    now = now or timezone.now()
    rows = (
        TaskItem.objects.filter(
            task__kind=Task.Kind.GROUPSEND,
            wecom_status=GroupSendResult.RECEIVED,
            sent_at__gte=_month_start(now),
            customer_id__in=list(customer_ids),
        )
        .values("customer_id")
        .annotate(n=Count("pk"))
    )
    return {r["customer_id"]: r["n"] for r in rows}


def quota_remaining(*, customer_ids: Iterable[int], now: dt.datetime | None = None) -> dict[int, int]:
    """How many more brand group messages each customer can receive this month."""
    now = now or timezone.now()
    ids = list(customer_ids)
    limit = monthly_limit(day=timezone.localdate(now))
    used = received_this_month(customer_ids=ids, now=now)
    return {pk: max(limit - used.get(pk, 0), 0) for pk in ids}


def customers_at_limit(*, customer_ids: Iterable[int], now: dt.datetime | None = None) -> set[int]:
    return {pk for pk, left in quota_remaining(customer_ids=customer_ids, now=now).items() if left <= 0}
