"""Reads of 今日: the guide's ranked list, counters, what was done today, and push audiences."""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from scrm.customers.events import KIND_INFO, EventKind
from scrm.customers.models import Event
from scrm.org.models import Staff
from scrm.today.models import PushLog, ReminderItem, ReminderKind, SopRule

State = ReminderItem.State
WORKBENCH_PAGE = 20
WORKBENCH_MAX_OFFSET = 1000


def visible_q(today: dt.date) -> Q:
    """Items on today's list: open, or snoozed until a day that has come."""
    return Q(state=State.OPEN) | Q(state=State.SNOOZED, snoozed_until__lte=today)


def workbench_items(
    *,
    staff: Staff,
    today: dt.date | None = None,
    kind: str = "",
    offset: int = 0,
    limit: int = WORKBENCH_PAGE,
    leave_out: str = "",
) -> list[ReminderItem]:
    """One page of the guide's list, best first (a page more is fetched to know whether there is one);
    `leave_out`: a kind shown apart (the hand-over digest)."""
    today = today or timezone.localdate()
    items = ReminderItem.objects.filter(staff=staff).select_related("customer", "material")
    if kind:
        items = items.filter(kind=kind)
    elif leave_out:
        items = items.exclude(kind=leave_out)
    order = ("-score", "due_on", "pk")
    # Two index range scans (staff, state, -score) instead of one OR that sorts every live item.
    end = offset + limit
    rows = [
        *items.filter(state=State.OPEN).order_by(*order)[:end],
        *items.filter(state=State.SNOOZED, snoozed_until__lte=today).order_by(*order)[:end],
    ]
    rows.sort(key=lambda i: (-i.score, i.due_on, i.pk))
    return rows[offset:end]


def workbench_counts(*, staff: Staff, today: dt.date | None = None) -> dict[str, int]:
    """Open items per kind, every kind present (0 when none), in the kinds' order."""
    today = today or timezone.localdate()
    found = dict(
        ReminderItem.objects.filter(visible_q(today), staff=staff)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return {kind: found.get(kind, 0) for kind in ReminderKind.values}


def done_today(*, staff: Staff, today: dt.date | None = None) -> list[ReminderItem]:
    today = today or timezone.localdate()
    return list(
        ReminderItem.objects.filter(staff=staff, state=State.DONE, closed_at__date=today)
        .select_related("customer")
        .order_by("-closed_at")[:20]
    )


def done_today_for(*, staff: Staff, customer_id: int, today: dt.date | None = None) -> ReminderItem | None:
    today = today or timezone.localdate()
    return (
        ReminderItem.objects.filter(staff=staff, customer_id=customer_id, state=State.DONE, closed_at__date=today)
        .order_by("-closed_at")
        .first()
    )


def reminder_for_chat(*, staff: Staff, customer_id: int, today: dt.date | None = None) -> ReminderItem | None:
    """The best live item of this guide for this customer: shown on top of the portrait."""
    today = today or timezone.localdate()
    return (
        ReminderItem.objects.filter(visible_q(today), staff=staff, customer_id=customer_id)
        .exclude(kind=ReminderKind.DELETED)
        .select_related("material")
        .order_by("-score", "pk")
        .first()
    )


def digest_audience(*, today: dt.date) -> dict[int, Counter]:
    """Per guide with items today: distinct customers per kind (for the morning digest)."""
    audience: dict[int, Counter] = defaultdict(Counter)
    rows = (
        ReminderItem.objects.filter(visible_q(today), staff__is_active=True)
        .values_list("staff_id", "kind")
        .annotate(n=Count("customer_id", distinct=True))
    )
    for staff_id, kind, n in rows:
        audience[staff_id][kind] += n
    return dict(audience)


def distinct_customers(*, staff_id: int, today: dt.date) -> int:
    return ReminderItem.objects.filter(visible_q(today), staff_id=staff_id).values("customer_id").distinct().count()


def urgent_sent_today(*, staff_id: int, today: dt.date) -> int:
    return PushLog.objects.filter(
        staff_id=staff_id, day=today, kind=PushLog.Kind.URGENT, status=PushLog.Status.SENT
    ).count()


# --- since you last talked ------------------------------------------------------------------------

SINCE_LOOKBACK_DAYS = 30
SINCE_SCAN = 200
SINCE_LINES = 6
_OUTGOING = (EventKind.MATERIAL_SENT, EventKind.COUPON_SENT)
_NOT_NEWS = (
    EventKind.CHAT_MESSAGE,
    EventKind.NOTE,
    EventKind.MATERIAL_SENT,
    EventKind.TAG_ADDED,
    EventKind.TAG_REMOVED,
)


@dataclass(frozen=True)
class SinceLine:
    kind: str
    icon: str
    label: str
    count: int
    latest_title: str
    latest_at: dt.datetime
    channel: str


@dataclass(frozen=True)
class SinceDigest:
    since: dt.datetime | None  # the guide's last outgoing message, None if they never wrote
    lines: list[SinceLine] = field(default_factory=list)


def since_last_talk(*, customer_id: int, staff: Staff, now: dt.datetime | None = None) -> SinceDigest:
    """What happened across channels since this guide's last outgoing message to the customer
    (or in the last 30 days if they never wrote), grouped by kind, newest kind first."""
    now = now or timezone.now()
    events = Event.objects.filter(customer_id=customer_id, occurred_at__lte=now)
    last_out = (
        events.filter(staff=staff)
        .filter(Q(kind__in=_OUTGOING) | Q(kind=EventKind.CHAT_MESSAGE, payload__direction="out"))
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    start = last_out or now - dt.timedelta(days=SINCE_LOOKBACK_DAYS)
    news = (
        events.filter(occurred_at__gt=start)
        .exclude(kind__in=_NOT_NEWS)
        .exclude(staff=staff)
        .order_by("-occurred_at", "-pk")
        .values_list("kind", "title", "occurred_at", "channel")[:SINCE_SCAN]
    )
    grouped: dict[str, list] = {}
    for kind, title, at, channel in news:
        grouped.setdefault(kind, []).append((title, at, channel))
    labels = dict(EventKind.choices)
    lines = [
        SinceLine(
            kind=kind,
            icon=KIND_INFO[kind].icon if kind in KIND_INFO else "•",
            label=str(labels.get(kind, kind)),
            count=len(rows),
            latest_title=rows[0][0],
            latest_at=rows[0][1],
            channel=rows[0][2],
        )
        for kind, rows in grouped.items()
    ]
    return SinceDigest(since=last_out, lines=lines[:SINCE_LINES])


def sop_rules_visible(*, viewer: Staff):
    """自动化任务 a console user may see and switch: an admin all, a manager their store's."""
    rules = SopRule.objects.select_related("segment", "material", "created_by")
    if viewer.role == Staff.Role.ADMIN:
        return rules
    return rules.filter(store_id=viewer.store_id) if viewer.store_id else rules.none()


def sop_rules_listed(*, viewer: Staff):
    """What a console user sees on the page: the rules they may switch, and for a manager also
    headquarters' rules (read-only), which fill their guides' 今日 too."""
    rules = SopRule.objects.select_related("segment", "material", "created_by")
    if viewer.role == Staff.Role.ADMIN:
        return rules
    return rules.filter(Q(store_id=viewer.store_id) | Q(store__isnull=True)) if viewer.store_id else rules.none()


def sop_rule_figures(*, rule_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per rule: items live now and items done (sent or marked done) so far."""
    rows = (
        ReminderItem.objects.filter(kind=ReminderKind.SOP, context__rule_id__in=rule_ids)
        .values("context__rule_id")
        .annotate(
            live=Count("pk", filter=Q(state__in=ReminderItem.LIVE_STATES)), done=Count("pk", filter=Q(state=State.DONE))
        )
    )
    return {r["context__rule_id"]: {"live": r["live"], "done": r["done"]} for r in rows}
