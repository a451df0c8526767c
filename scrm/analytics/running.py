"""Running totals, guide × store spans and store days, all derived from the GuideDay rows.

A GuideDay row's `running` holds the sums of its series (one guide in one store) up to that day, so
a range's total is one difference of two rows.
"""

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Max, Min, OuterRef, Q, Subquery, Sum

from scrm.analytics.days import ONE_DAY
from scrm.analytics.facts import day_counts
from scrm.analytics.models import ADDITIVE, SNAPSHOT, GuideCustomerDay, GuideDay, GuideStoreSpan, StoreDay

NO_TOTALS: tuple[int, ...] = (0,) * len(ADDITIVE)


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


def running_totals_set(*, day: dt.date, rows: list[GuideDay]) -> None:
    """Fill the running totals of freshly written rows of `day` from each pair's previous row."""
    if not rows:
        return
    bases = latest_values(GuideDay.objects.filter(pk__in=[r.pk for r in rows]), base=(day - ONE_DAY, "running"))
    for row in rows:
        base = bases.get((row.staff_id, row.store_id), {}).get("base")
        row.running = totals_add(base, own_totals(row))
    GuideDay.objects.bulk_update(rows, ["running"], batch_size=500)


def spans_extend(*, day: dt.date, pairs: set[tuple[int, int | None]]) -> None:
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
    """Recompute the StoreDay rows of one day from its GuideDay rows and GuideCustomerDay facts."""
    sums = {name: Sum(name) for name in (*ADDITIVE, *SNAPSHOT)}
    rows = {
        row["store_id"]: StoreDay(day=day, **row)
        for row in GuideDay.objects.filter(day=day).values("store_id").annotate(**sums).order_by()
    }
    facts = GuideCustomerDay.objects.filter(day=day)
    Kind = GuideCustomerDay.Kind
    for row in facts.values("store_id").annotate(**day_counts()).order_by():
        target = rows.setdefault(row["store_id"], StoreDay(day=day, store_id=row["store_id"]))
        target.reached, target.bought, target.rebought = row["reach"], row["buyers"], row["repeaters"]
    for store_id, next_day, n in (
        facts.filter(kind=Kind.ADD, next_day__isnull=False)
        .values("store_id", "next_day")
        .annotate(n=Count("pk"))
        .values_list("store_id", "next_day", "n")
        .order_by()
    ):
        target = rows.setdefault(store_id, StoreDay(day=day, store_id=store_id))
        target.converted_on[next_day.isoformat()] = n
    rows = list(rows.values())
    StoreDay.objects.filter(day=day).delete()
    StoreDay.objects.bulk_create(rows, batch_size=500)
    return len(rows)
