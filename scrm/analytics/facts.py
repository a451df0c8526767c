"""GuideCustomerDay facts: which guide added, reached or sold to which customer on a day, each
linked to the pair's previous and next fact so distinct counts over any range are plain aggregates.
"""

import datetime as dt
from collections import defaultdict

from django.db.models import Count, F, Max, Min, Q

from scrm.analytics.days import local_day
from scrm.analytics.models import GuideCustomerDay
from scrm.customers.models import FollowRelation, Order, OrderStatus
from scrm.materials.models import MaterialSend

Kind = GuideCustomerDay.Kind
Pair = tuple[int, int]  # (staff_id, customer_id)

# Orders that count for GMV, buyers and conversion: not refunded in full.
COUNTED_ORDERS = ~Q(status=OrderStatus.REFUNDED) & Q(refund_amount__lt=F("amount"))


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


def day_counts() -> dict[str, Count]:
    """Distinct-customer counts of facts grouped by day: a pair has at most one fact of a kind a day, so
    each fact is a distinct customer and no previous-fact test is needed (distinct_counts for a range)."""
    return {
        "reach": Count("pk", filter=Q(kind=Kind.SEND)),
        "buyers": Count("pk", filter=Q(kind=Kind.ORDER)),
        "repeaters": Count("pk", filter=Q(kind=Kind.ORDER, n__gte=2)),
    }


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


def _relink_adds(pairs: set[Pair]) -> set[dt.date]:
    """An add fact's next_day is the first counted order with that guide after the add.
    Returns the days of the add facts that changed (their store days count conversions)."""
    if not pairs:
        return set()
    facts = _pair_facts(Kind.ADD, pairs)
    if not facts:
        return set()
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
    return {fact.day for fact in changed}


def customer_facts_rollup(
    *, day: dt.date, start: dt.datetime, end: dt.datetime, stores: dict[int, int]
) -> set[dt.date]:
    """Rewrite the day's facts and relink their neighbours; returns the other days whose add facts
    changed (an order today converts an earlier add)."""
    old = defaultdict(set)
    for kind, staff_id, customer_id in GuideCustomerDay.objects.filter(day=day).values_list(
        "kind", "staff_id", "customer_id"
    ):
        old[kind].add((staff_id, customer_id))
    GuideCustomerDay.objects.filter(day=day).delete()

    new_adds = {
        (r["staff_id"], r["customer_id"]): r["n"]
        for r in FollowRelation.objects.filter(added_at__gte=start, added_at__lt=end)
        .exclude(add_way=FollowRelation.ASSIGNED)  # inherited in a hand-over: not a new customer
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
    return _relink_adds(old[Kind.ADD] | set(new_adds) | order_pairs) - {day}
