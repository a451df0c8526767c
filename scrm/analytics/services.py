"""Rollup computation: raw customer, order, note, send and chat rows → GuideDay / GuideCustomerDay.

A day is recomputed as a whole (delete + insert in one transaction), so running it twice gives the
same rows and any past day can be rebuilt from the raw tables.
"""

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from scrm.analytics.blocks import customer_blocks_rollup
from scrm.analytics.days import day_bounds, local_day
from scrm.analytics.facts import COUNTED_ORDERS, customer_facts_rollup, distinct_counts
from scrm.analytics.models import (
    ADDITIVE,
    RESPONSE_BUCKETS,
    RESPONSE_FIELDS,
    WINDOW_MEASURES,
    WINDOWS,
    GuideCustomerDay,
    GuideDay,
)
from scrm.analytics.running import (
    NO_TOTALS,
    guide_running_totals_refresh,
    own_totals,
    running_totals_set,
    spans_extend,
    store_days_rollup,
)
from scrm.customers.events import EventKind
from scrm.customers.models import CustomerTag, Event, FollowRelation, Note, Order
from scrm.materials.models import MaterialSend
from scrm.org.models import Staff


def response_bucket(seconds: float) -> int:
    return min(bisect.bisect_left(RESPONSE_BUCKETS, seconds), len(RESPONSE_BUCKETS) - 1)


def response_samples(messages: Iterable[tuple[int, int | None, dt.datetime, str]]) -> tuple[list, list]:
    """First-response samples of one customer-day.

    messages: (customer_id, staff_id, occurred_at, direction) of one customer on one day. For each
    guide: the first inbound message addressed to them (or to nobody in particular) → their first
    outbound message after it. Returns ([(staff_id, seconds)], [staff_id left unanswered]).
    """
    ordered = sorted(messages, key=lambda m: m[2])
    guides = {m[1] for m in ordered if m[1] is not None}
    samples, unanswered = [], []
    for guide in guides:
        first_in = next((m for m in ordered if m[3] == "in" and m[1] in (guide, None)), None)
        if first_in is None:
            continue
        reply = next((m for m in ordered if m[3] == "out" and m[1] == guide and m[2] > first_in[2]), None)
        if reply is not None:
            samples.append((guide, (reply[2] - first_in[2]).total_seconds()))
        elif first_in[1] == guide:
            unanswered.append(guide)
    return samples, unanswered


def _windows_by_staff(day: dt.date) -> dict[int, dict[str, list[int]]]:
    """Per guide: {"<days>": [reach, buyers, repeaters, converted]} for each trailing window ending on day."""
    aggregates = {}
    for length in WINDOWS:
        counts = distinct_counts(day - dt.timedelta(days=length - 1), day)
        aggregates |= {f"w{length}_{name}": counts[name] for name in WINDOW_MEASURES}
    facts = GuideCustomerDay.objects.filter(day__gte=day - dt.timedelta(days=max(WINDOWS) - 1), day__lte=day)
    result = {}
    for row in facts.values("staff_id").annotate(**aggregates).order_by():
        windows = {str(length): [row[f"w{length}_{name}"] for name in WINDOW_MEASURES] for length in WINDOWS}
        if any(any(values) for values in windows.values()):
            result[row["staff_id"]] = windows
    return result


@transaction.atomic
def guide_windows_refresh(*, day: dt.date) -> None:
    """Recompute the stored trailing windows of one day (after an earlier day's facts changed)."""
    windows = _windows_by_staff(day)
    rows = list(GuideDay.objects.filter(day=day))
    for row in rows:
        row.windows = windows.pop(row.staff_id, {})
    GuideDay.objects.bulk_update(rows, ["windows"], batch_size=500)
    stores = dict(Staff.objects.filter(pk__in=windows).values_list("pk", "store_id"))
    new = GuideDay.objects.bulk_create(
        GuideDay(staff_id=pk, store_id=stores.get(pk), day=day, windows=w) for pk, w in windows.items()
    )
    # All-zero rows: their running totals carry the previous row's forward.
    running_totals_set(day=day, rows=new)
    spans_extend(day=day, pairs={(row.staff_id, row.store_id) for row in new})


def _count_by_staff(queryset, field: str = "staff_id") -> dict[int, int]:
    return {row[field]: row["n"] for row in queryset.values(field).annotate(n=Count("pk")).order_by()}


def _chat_histograms(start: dt.datetime, end: dt.datetime) -> dict[int, list[int]]:
    """Per guide: response-time bucket counts, with the unanswered count appended last."""
    by_customer: dict[int, list] = defaultdict(list)
    rows = Event.objects.filter(kind=EventKind.CHAT_MESSAGE, occurred_at__gte=start, occurred_at__lt=end).values_list(
        "customer_id", "staff_id", "occurred_at", "payload"
    )
    for customer_id, staff_id, occurred_at, payload in rows.iterator():
        direction = (payload or {}).get("direction")
        if direction in ("in", "out"):
            by_customer[customer_id].append((customer_id, staff_id, occurred_at, direction))
    hist: dict[int, list[int]] = defaultdict(lambda: [0] * (len(RESPONSE_BUCKETS) + 1))
    for messages in by_customer.values():
        samples, unanswered = response_samples(messages)
        for staff_id, seconds in samples:
            hist[staff_id][response_bucket(seconds)] += 1
        for staff_id in unanswered:
            hist[staff_id][-1] += 1
    return hist


@transaction.atomic
def guide_days_rollup(*, day: dt.date) -> int:
    """Recompute every guide's GuideDay and GuideCustomerDay rows of one Asia/Shanghai day, that
    day's StoreDay rows and the running totals of every later day of the guides whose day changed.

    Returns the number of GuideDay rows written.
    """
    written, changed = _guide_day_rollup(day=day)
    guide_running_totals_refresh(pairs=changed, after=day)
    return written


def _guide_day_rollup(*, day: dt.date) -> tuple[int, set[tuple[int, int | None]]]:
    """One day's rows (running totals of that day included); returns the rows written and the
    (staff_id, store_id) series whose own totals changed, whose later running totals need a refresh.
    """
    start, end = day_bounds(day)
    relations = FollowRelation.objects.all()
    # 新增客户: friends made that day; customers inherited in a hand-over are not new to the brand.
    adds = _count_by_staff(
        relations.filter(added_at__gte=start, added_at__lt=end).exclude(add_way=FollowRelation.ASSIGNED)
    )
    losses = _count_by_staff(
        relations.filter(ended_by=FollowRelation.EndedBy.CUSTOMER, ended_at__gte=start, ended_at__lt=end)
    )
    day_orders = Order.objects.filter(COUNTED_ORDERS, staff__isnull=False, paid_at__gte=start, paid_at__lt=end)
    sales = {
        r["staff_id"]: (r["n"], r["gmv"])
        for r in day_orders.values("staff_id")
        .annotate(n=Count("pk"), gmv=Sum(F("amount") - F("refund_amount")))
        .order_by()
    }
    sent = MaterialSend.objects.filter(status=MaterialSend.Status.SENT)
    sends = _count_by_staff(sent.filter(sent_at__gte=start, sent_at__lt=end))
    notes = _count_by_staff(Note.objects.filter(created_at__gte=start, created_at__lt=end))
    chats = _chat_histograms(start, end)

    active = relations.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=end), added_at__lt=end)
    active_counts = {
        r["staff_id"]: r["n"]
        for r in active.values("staff_id").annotate(n=Count("customer_id", distinct=True)).order_by()
    }
    tagged = CustomerTag.objects.filter(customer_id=OuterRef("customer_id"), created_at__lt=end)
    tagged_counts = {
        r["staff_id"]: r["n"]
        for r in active.filter(Exists(tagged))
        .values("staff_id")
        .annotate(n=Count("customer_id", distinct=True))
        .order_by()
    }
    overdue = _count_by_staff(
        Note.objects.filter(next_contact_on__lt=day, done=False, created_at__lt=end).exclude(next_contact_on=None)
    )

    activity = set(adds) | set(losses) | set(sales) | set(sends) | set(notes) | set(chats) | set(overdue)
    activity |= set(active_counts)
    guides = Staff.objects.filter(Q(pk__in=activity) | Q(role=Staff.Role.GUIDE, is_active=True, created_at__lt=end))
    # Keep the store a row was first written with, so recomputing never moves history.
    old_rows = list(GuideDay.objects.filter(day=day).only("staff_id", "store_id", *ADDITIVE))
    old_stores = {row.staff_id: row.store_id for row in old_rows}
    stores = {pk: old_stores.get(pk, store_id) for pk, store_id in guides.values_list("pk", "store_id")}

    relinked = customer_facts_rollup(day=day, start=start, end=end, stores=stores)
    customer_blocks_rollup(day=day)
    windows = _windows_by_staff(day)
    # A guide with customers in a window (e.g. one who left last month) keeps a row for it.
    for pk, store_id in Staff.objects.filter(pk__in=set(windows) - set(stores)).values_list("pk", "store_id"):
        stores[pk] = old_stores.get(pk, store_id)

    rows = []
    for staff_id, store_id in stores.items():
        n_orders, gmv = sales.get(staff_id, (0, 0))
        hist = chats.get(staff_id, [0] * (len(RESPONSE_BUCKETS) + 1))
        rows.append(
            GuideDay(
                staff_id=staff_id,
                store_id=store_id,
                day=day,
                adds=adds.get(staff_id, 0),
                losses=losses.get(staff_id, 0),
                orders=n_orders,
                gmv=gmv or 0,
                sends=sends.get(staff_id, 0),
                notes=notes.get(staff_id, 0),
                rt_unanswered=hist[-1],
                active_customers=active_counts.get(staff_id, 0),
                tagged_customers=tagged_counts.get(staff_id, 0),
                overdue_followups=overdue.get(staff_id, 0),
                windows=windows.get(staff_id, {}),
                **dict(zip(RESPONSE_FIELDS, hist[:-1], strict=True)),
            )
        )
    GuideDay.objects.filter(day=day).delete()
    GuideDay.objects.bulk_create(rows, batch_size=500)
    running_totals_set(day=day, rows=rows)
    spans_extend(day=day, pairs={(row.staff_id, row.store_id) for row in rows})
    store_days_rollup(day=day)
    for other in sorted(relinked):
        # An earlier add converted today: that day's conversions (blocks, store trend) move.
        customer_blocks_rollup(day=other)
        store_days_rollup(day=other)
    old = {(row.staff_id, row.store_id): own_totals(row) for row in old_rows}
    new = {(row.staff_id, row.store_id): own_totals(row) for row in rows}
    changed = {pair for pair in old.keys() | new.keys() if old.get(pair, NO_TOTALS) != new.get(pair, NO_TOTALS)}
    return len(rows), changed


def _refresh_windows_after(last: dt.date, today: dt.date) -> None:
    # Later days' trailing windows reach back into the recomputed days.
    horizon = min(today, last + dt.timedelta(days=max(WINDOWS) - 1))
    rolled = GuideDay.objects.filter(day__gt=last, day__lte=horizon).values_list("day", flat=True).distinct()
    for day in sorted(set(rolled)):
        guide_windows_refresh(day=day)


def rollup_days(*, first: dt.date, last: dt.date, today: dt.date | None = None) -> int:
    """Recompute every day from first to last inclusive, oldest first (each day its own transaction),
    then the stored windows of the days after it up to today."""
    written, changed = 0, set()
    day = first
    while day <= last:
        # Oldest first, so each day's running totals build on the fresh ones of the day before;
        # the days after `last` are brought up to date once at the end.
        with transaction.atomic():
            n, pairs = _guide_day_rollup(day=day)
        written += n
        changed |= pairs
        day += dt.timedelta(days=1)
    guide_running_totals_refresh(pairs=changed, after=last)
    _refresh_windows_after(last, today or local_day(timezone.now()))
    return written


def rollup_recent(*, now: dt.datetime | None = None) -> list[dt.date]:
    """Yesterday, today, and the pay days of orders changed since yesterday (late refunds)."""
    now = now or timezone.now()
    today = local_day(now)
    yesterday = today - dt.timedelta(days=1)
    since, _ = day_bounds(yesterday)
    days = {yesterday, today}
    for paid_at in Order.objects.filter(updated_at__gte=since, staff__isnull=False).values_list("paid_at", flat=True):
        days.add(local_day(paid_at))
    for day in sorted(days):
        guide_days_rollup(day=day)
    # Late changes (a refund of an old order) also move the windows of the days after them.
    for day in sorted(set(GuideDay.objects.filter(day__gt=min(days), day__lte=today).values_list("day", flat=True))):
        if day not in days:
            guide_windows_refresh(day=day)
    return sorted(days)
