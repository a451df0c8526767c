"""Reads over the WeCom queues kept in the database (probes and metrics)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min
from django.utils import timezone

from scrm.wecom.models import CallbackInbox, TagOutbox


@dataclass(frozen=True)
class Backlog:
    pending: int
    # Seconds the oldest pending row has waited; 0 when nothing waits.
    oldest_age: float


def _backlog(queryset, field: str, now: dt.datetime) -> Backlog:
    # Both tables have an index on (status, <time>), so this stays cheap however many rows are done.
    row = queryset.aggregate(pending=Count("pk"), oldest=Min(field))
    oldest = row["oldest"]
    return Backlog(pending=row["pending"], oldest_age=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)


def inbox_backlog(*, now: dt.datetime | None = None) -> Backlog:
    """Callbacks stored but not processed yet."""
    pending = CallbackInbox.objects.filter(status=CallbackInbox.Status.PENDING)
    return _backlog(pending, "received_at", now or timezone.now())


def outbox_backlog(*, now: dt.datetime | None = None) -> Backlog:
    """Tag edits made here and not pushed to WeCom yet."""
    pending = TagOutbox.objects.filter(status=TagOutbox.Status.PENDING)
    return _backlog(pending, "created_at", now or timezone.now())
