"""Rollup computation: raw customer, order, note, send and chat rows → GuideDay / GuideCustomerDay.

A day is recomputed as a whole (delete + insert in one transaction), so running it twice gives the
same rows and any past day can be rebuilt from the raw tables.
"""

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from scrm.analytics.models import (
    ADDITIVE,
    RESPONSE_BUCKETS,
    RESPONSE_FIELDS,
    SNAPSHOT,
    WINDOW_MEASURES,
    WINDOWS,
    GuideCustomerDay,
    GuideDay,
    GuideStoreSpan,
    StoreDay,
)
from scrm.customers.events import EventKind
from scrm.customers.models import CustomerTag, Event, FollowRelation, Note, Order, OrderStatus
from scrm.materials.models import MaterialSend
from scrm.org.models import Staff

Kind = GuideCustomerDay.Kind
Pair = tuple[int, int]  # (staff_id, customer_id)

ONE_DAY = dt.timedelta(days=1)
NO_TOTALS: tuple[int, ...] = (0,) * len(ADDITIVE)

# Orders that count for GMV, buyers and conversion: not refunded in full.
COUNTED_ORDERS = ~Q(status=OrderStatus.REFUNDED) & Q(refund_amount__lt=F("amount"))


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_day(value: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar day of an aware datetime."""
    return value.astimezone(local_tz()).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = local_tz()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


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


def distinct_counts(start: dt.date, end: dt.date) -> dict[str, Count]:
    """Distinct-customer counts over [start, end] as aggregates over GuideCustomerDay.

    A pair counts through its first fact inside the range: the one whose previous fact lies before it.
    """

    def first_in(kind, extra=None):
        return Count(
            "pk",
            filter=Q(kind=kind, day__gte=start, day__lte=end)
            & (Q(prev_day__lt=start) | Q(prev_day__isnull=True))
            & (extra or Q()),
        )

    return {
        "reach": first_in(Kind.SEND),
        "buyers": first_in(Kind.ORDER),
        "repeaters": first_in(Kind.ORDER, Q(n__gte=2) | Q(next_day__lte=end)),
        "converted": Count("pk", filter=Q(kind=Kind.ADD, day__gte=start, day__lte=end, next_day__lte=end)),
    }


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
    _running_set(day=day, rows=new)
    _spans_extend(day=day, pairs={(row.staff_id, row.store_id) for row in new})


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


def _latest_before(queryset, time_field: str, pairs: set[Pair], before: dt.datetime) -> dict[Pair, dt.date]:
    if not pairs:
        return {}
    staff_ids, customer_ids = {p[0] for p in pairs}, {p[1] for p in pairs}
    rows = (
        queryset.filter(staff_id__in=staff_ids, customer_id__in=customer_ids, **{f"{time_field}__lt": before})
        .values("staff_id", "customer_id")
        .annotate(at=Max(time_field))
        .order_by()
    )
    return {
        (r["staff_id"], r["customer_id"]): local_day(r["at"])
        for r in rows
        if (r["staff_id"], r["customer_id"]) in pairs
    }


def _earliest_from(queryset, time_field: str, pairs: set[Pair], since: dt.datetime) -> dict[Pair, dt.date]:
    if not pairs:
        return {}
    staff_ids, customer_ids = {p[0] for p in pairs}, {p[1] for p in pairs}
    rows = (
        queryset.filter(staff_id__in=staff_ids, customer_id__in=customer_ids, **{f"{time_field}__gte": since})
        .values("staff_id", "customer_id")
        .annotate(at=Min(time_field))
        .order_by()
    )
    return {
        (r["staff_id"], r["customer_id"]): local_day(r["at"])
        for r in rows
        if (r["staff_id"], r["customer_id"]) in pairs
    }


def _pair_facts(kind: int, pairs: set[Pair], **filters):
    staff_ids, customer_ids = {p[0] for p in pairs}, {p[1] for p in pairs}
    rows = GuideCustomerDay.objects.filter(kind=kind, staff_id__in=staff_ids, customer_id__in=customer_ids, **filters)
    return [row for row in rows if (row.staff_id, row.customer_id) in pairs]


def _relink_neighbours(
    kind: int, day: dt.date, pairs: set[Pair], present: set[Pair], before: dict, after: dict, *, link_next: bool
) -> None:
    """Point the pair's facts just before and after `day` at `day` (or past it when the pair left the day)."""
    if not pairs:
        return
    changed = []
    later = defaultdict(list)
    for row in _pair_facts(kind, pairs, day__gt=day):
        later[(row.staff_id, row.customer_id)].append(row)
    for pair, rows in later.items():
        row = min(rows, key=lambda r: r.day)
        row.prev_day = day if pair in present else before.get(pair)
        changed.append(row)
    if link_next:
        earlier = defaultdict(list)
        for row in _pair_facts(kind, pairs, day__lt=day):
            earlier[(row.staff_id, row.customer_id)].append(row)
        for pair, rows in earlier.items():
            row = max(rows, key=lambda r: r.day)
            row.next_day = day if pair in present else after.get(pair)
            changed.append(row)
    GuideCustomerDay.objects.bulk_update(changed, ["prev_day", "next_day"], batch_size=500)


def _relink_adds(pairs: set[Pair]) -> None:
    """An add fact's next_day is the first counted order with that guide after the add."""
    if not pairs:
        return
    facts = _pair_facts(Kind.ADD, pairs)
    if not facts:
        return
    staff_ids, customer_ids = {p[0] for p in pairs}, {p[1] for p in pairs}
    added: dict[tuple[int, int, dt.date], dt.datetime] = {}
    for staff_id, customer_id, added_at in FollowRelation.objects.filter(
        staff_id__in=staff_ids, customer_id__in=customer_ids
    ).values_list("staff_id", "customer_id", "added_at"):
        key = (staff_id, customer_id, local_day(added_at))
        added[key] = min(added_at, added.get(key, added_at))
    paid: dict[Pair, list[dt.datetime]] = defaultdict(list)
    for staff_id, customer_id, paid_at in (
        Order.objects.filter(COUNTED_ORDERS, staff_id__in=staff_ids, customer_id__in=customer_ids)
        .values_list("staff_id", "customer_id", "paid_at")
        .order_by("paid_at")
    ):
        paid[(staff_id, customer_id)].append(paid_at)
    changed = []
    for fact in facts:
        added_at = added.get((fact.staff_id, fact.customer_id, fact.day))
        first = None
        if added_at is not None:
            first = next((p for p in paid[(fact.staff_id, fact.customer_id)] if p > added_at), None)
        next_day = local_day(first) if first else None
        if fact.next_day != next_day:
            fact.next_day = next_day
            changed.append(fact)
    GuideCustomerDay.objects.bulk_update(changed, ["next_day"], batch_size=500)


# --- running totals, spans and store days --------------------------------------------------------


def cents(value) -> int:
    return int((Decimal(value or 0) * 100).to_integral_value())


def own_totals(row: GuideDay) -> tuple[int, ...]:
    """The row's ADDITIVE values in GuideDay.running's order (gmv in cents)."""
    return tuple(cents(row.gmv) if name == "gmv" else getattr(row, name) for name in ADDITIVE)


def totals_add(a, b) -> list[int]:
    return [x + y for x, y in zip(a or NO_TOTALS, b or NO_TOTALS, strict=True)]


def totals_parts(totals) -> dict:
    """Running-total differences back to named parts (gmv as Decimal yuan)."""
    parts = dict(zip(ADDITIVE, totals or NO_TOTALS, strict=True))
    parts["gmv"] = Decimal(parts["gmv"]).scaleb(-2)
    return parts


def latest_values(pairs, **wanted: tuple[dt.date, str]) -> dict[tuple[int, int | None], dict[str, object]]:
    """For every (staff_id, store_id) of `pairs` (a GuideDay or GuideStoreSpan queryset) and each
    name=(day, field) of `wanted`: that field of the guide's latest GuideDay in that store on or
    before day (None if there is none). One query, one index probe per pair and name."""

    def latest(day: dt.date, field: str, store_match: Q) -> Subquery:
        rows = GuideDay.objects.filter(store_match, staff_id=OuterRef("staff_id"), day__lte=day)
        return Subquery(rows.order_by("-day").values(field)[:1])

    def annotated(queryset, store_match: Q):
        names = {f"latest_{name}": latest(day, field, store_match) for name, (day, field) in wanted.items()}
        return queryset.annotate(**names).values_list("staff_id", "store_id", *names).order_by()

    # `store_id = NULL` matches nothing, so guides without a store get their own branch.
    with_store = annotated(pairs.filter(store__isnull=False), Q(store_id=OuterRef("store_id")))
    without = annotated(pairs.filter(store__isnull=True), Q(store__isnull=True))
    return {
        (staff_id, store_id): dict(zip(wanted, values, strict=True))
        for staff_id, store_id, *values in with_store.union(without, all=True)
    }


def _running_set(*, day: dt.date, rows: list[GuideDay]) -> None:
    """Fill the running totals of freshly written rows of `day` from each pair's previous row."""
    if not rows:
        return
    bases = latest_values(GuideDay.objects.filter(pk__in=[r.pk for r in rows]), base=(day - ONE_DAY, "running"))
    for row in rows:
        base = bases.get((row.staff_id, row.store_id), {}).get("base")
        row.running = totals_add(base, own_totals(row))
    GuideDay.objects.bulk_update(rows, ["running"], batch_size=500)


def _spans_extend(*, day: dt.date, pairs: set[tuple[int, int | None]]) -> None:
    spans = {(s.staff_id, s.store_id): s for s in GuideStoreSpan.objects.filter(staff_id__in={p[0] for p in pairs})}
    new, changed = [], []
    for staff_id, store_id in pairs:
        span = spans.get((staff_id, store_id))
        if span is None:
            new.append(GuideStoreSpan(staff_id=staff_id, store_id=store_id, first_day=day, last_day=day))
        elif not span.first_day <= day <= span.last_day:
            span.first_day, span.last_day = min(span.first_day, day), max(span.last_day, day)
            changed.append(span)
    GuideStoreSpan.objects.bulk_create(new, batch_size=500)
    GuideStoreSpan.objects.bulk_update(changed, ["first_day", "last_day"], batch_size=500)


def guide_running_totals_refresh(*, pairs: set[tuple[int, int | None]], after: dt.date) -> int:
    """Recompute the running totals of the given (staff_id, store_id) series for every day after `after`
    (whose own rows must already be right). Returns the number of rows rewritten."""
    if not pairs:
        return 0
    staff_ids = {p[0] for p in pairs}
    latest = latest_values(GuideStoreSpan.objects.filter(staff_id__in=staff_ids), base=(after, "running"))
    bases = {pair: values["base"] for pair, values in latest.items()}
    later = (
        GuideDay.objects.filter(staff_id__in=staff_ids, day__gt=after)
        .only("staff_id", "store_id", "day", "running", *ADDITIVE)
        .order_by("staff_id", "store_id", "day")
    )
    changed = []
    for row in later.iterator(chunk_size=2000):
        pair = (row.staff_id, row.store_id)
        if pair not in pairs:
            continue
        running = totals_add(bases.get(pair), own_totals(row))
        bases[pair] = running
        if row.running != running:
            row.running = running
            changed.append(row)
    GuideDay.objects.bulk_update(changed, ["running"], batch_size=500)
    return len(changed)


def guide_running_totals_rebuild() -> int:
    """Recompute every running total and span from the GuideDay rows (after a bulk import or repair)."""
    GuideStoreSpan.objects.all().delete()
    spans = GuideDay.objects.values("staff_id", "store_id").annotate(first=Min("day"), last=Max("day")).order_by()
    GuideStoreSpan.objects.bulk_create(
        (
            GuideStoreSpan(staff_id=s["staff_id"], store_id=s["store_id"], first_day=s["first"], last_day=s["last"])
            for s in spans
        ),
        batch_size=500,
    )
    pairs = set(GuideStoreSpan.objects.values_list("staff_id", "store_id"))
    return guide_running_totals_refresh(pairs=pairs, after=dt.date.min)


def store_days_rollup(*, day: dt.date) -> int:
    """Recompute the StoreDay rows of one day from its GuideDay rows."""
    sums = {name: Sum(name) for name in (*ADDITIVE, *SNAPSHOT)}
    rows = [
        StoreDay(day=day, **row)
        for row in GuideDay.objects.filter(day=day).values("store_id").annotate(**sums).order_by()
    ]
    StoreDay.objects.filter(day=day).delete()
    StoreDay.objects.bulk_create(rows, batch_size=500)
    return len(rows)


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
    adds = _count_by_staff(relations.filter(added_at__gte=start, added_at__lt=end))
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

    _customer_facts_rollup(day=day, start=start, end=end, stores=stores)
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
    _running_set(day=day, rows=rows)
    _spans_extend(day=day, pairs={(row.staff_id, row.store_id) for row in rows})
    store_days_rollup(day=day)
    old = {(row.staff_id, row.store_id): own_totals(row) for row in old_rows}
    new = {(row.staff_id, row.store_id): own_totals(row) for row in rows}
    changed = {pair for pair in old.keys() | new.keys() if old.get(pair, NO_TOTALS) != new.get(pair, NO_TOTALS)}
    return len(rows), changed


def _customer_facts_rollup(*, day: dt.date, start: dt.datetime, end: dt.datetime, stores: dict[int, int]) -> None:
    old = defaultdict(set)
    for kind, staff_id, customer_id in GuideCustomerDay.objects.filter(day=day).values_list(
        "kind", "staff_id", "customer_id"
    ):
        old[kind].add((staff_id, customer_id))
    GuideCustomerDay.objects.filter(day=day).delete()

    new_adds = {
        (r["staff_id"], r["customer_id"]): r["n"]
        for r in FollowRelation.objects.filter(added_at__gte=start, added_at__lt=end)
        .values("staff_id", "customer_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    sent = MaterialSend.objects.filter(status=MaterialSend.Status.SENT)
    new_sends = {
        (r["staff_id"], r["customer_id"]): r["n"]
        for r in sent.filter(sent_at__gte=start, sent_at__lt=end)
        .values("staff_id", "customer_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    orders = Order.objects.filter(COUNTED_ORDERS, staff__isnull=False)
    new_orders = {
        (r["staff_id"], r["customer_id"]): r["n"]
        for r in orders.filter(paid_at__gte=start, paid_at__lt=end)
        .values("staff_id", "customer_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    send_pairs = old[Kind.SEND] | set(new_sends)
    order_pairs = old[Kind.ORDER] | set(new_orders)
    send_before = _latest_before(sent, "sent_at", send_pairs, start)
    order_before = _latest_before(orders, "paid_at", order_pairs, start)
    order_after = _earliest_from(orders, "paid_at", order_pairs, end)

    def fact(kind, pair, n, **links):
        return GuideCustomerDay(
            kind=kind,
            staff_id=pair[0],
            customer_id=pair[1],
            store_id=stores.get(pair[0]),
            day=day,
            n=n,
            **links,
        )

    facts = [fact(Kind.ADD, pair, n) for pair, n in new_adds.items()]
    facts += [fact(Kind.SEND, pair, n, prev_day=send_before.get(pair)) for pair, n in new_sends.items()]
    facts += [
        fact(Kind.ORDER, pair, n, prev_day=order_before.get(pair), next_day=order_after.get(pair))
        for pair, n in new_orders.items()
    ]
    GuideCustomerDay.objects.bulk_create(facts, batch_size=500)

    _relink_neighbours(Kind.SEND, day, send_pairs, set(new_sends), send_before, {}, link_next=False)
    _relink_neighbours(Kind.ORDER, day, order_pairs, set(new_orders), order_before, order_after, link_next=True)
    _relink_adds(old[Kind.ADD] | set(new_adds) | order_pairs)


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
