"""Dashboard figures read from the daily rollups only, with a constant number of queries.

Every figure is computed from summed parts (counts, numerators, denominators, histogram buckets),
so a store's or a quartile's ratio or median is right, never an average of averages. Distinct
customer counts over a range come from the trailing windows stored on GuideDay when the range has a
stored length, else from each guide's customer blocks (scrm.analytics.blocks); both equal counting
the GuideCustomerDay facts. Store and brand totals of distinct counts are sums over guides
(guide × customer pairs).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from operator import add

from django.core.paginator import Paginator
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Count, F, Func, JSONField, Q, Sum, Value
from django.utils.translation import gettext_lazy as _

from scrm.analytics.blocks import blocks_read, cover, range_counts
from scrm.analytics.days import day_bounds
from scrm.analytics.facts import day_counts, distinct_counts
from scrm.analytics.figures import (
    DISTINCT,
    FIGURES_BY_KEY,
    PART_NAMES,
    Parts,
    Row,
    figure_parts,
    ratio,
    response_median,
    totals_sub,
)
from scrm.analytics.models import (
    ADDITIVE,
    RESPONSE_FIELDS,
    SNAPSHOT,
    WINDOW_MEASURES,
    WINDOWS,
    GuideCustomerDay,
    GuideDay,
    GuideStoreSpan,
    StoreDay,
)
from scrm.analytics.periods import Period
from scrm.analytics.running import latest_values, totals_parts
from scrm.customers.models import Event, FollowRelation
from scrm.materials.models import MaterialSend
from scrm.org.models import Staff, Store

Kind = GuideCustomerDay.Kind

# --- queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose figures: the brand (store_id None), one store, or one guide."""

    store_id: int | None = None
    staff_id: int | None = None

    def filter(self, queryset):
        if self.store_id is not None:
            queryset = queryset.filter(store_id=self.store_id)
        if self.staff_id is not None:
            queryset = queryset.filter(staff_id=self.staff_id)
        return queryset


class WindowCounts(Func):
    """GuideDay.windows["<days>"] only, not the whole JSON of every row (a digit key given to
    Django's `windows__<n>` would be read as an array index)."""

    output_field = JSONField()

    def __init__(self, days: int):
        super().__init__(F("windows"))
        self.key = str(int(days))

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"json_extract({sql}, %s)", (*params, f'$."{self.key}"')

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} -> %s)", (*params, self.key)


def _period_parts(*, scope: Scope, period: Period) -> dict[tuple[int | None, int], dict[str, Parts]]:
    """Parts per (store_id, staff_id) for the period ('current') and the one before ('previous').

    Sums are differences of running totals (three rows per guide and store, whatever the length);
    snapshots and stored distinct counts come from the rows on the two range ends. Three queries
    when the range's length is one of WINDOWS, five otherwise (customer blocks), six when a guide
    changed store inside the periods (that guide's facts).
    """
    prev = period.previous
    a, b, pa, pb = period.first, period.last, prev.first, prev.last
    result: dict = defaultdict(lambda: {"current": Parts.empty(), "previous": Parts.empty()})

    spans = scope.filter(GuideStoreSpan.objects.filter(first_day__lte=b, last_day__gte=pa))
    # Each period is its own difference: month to date compares with the same days of last month,
    # so the previous period need not end the day before this one starts.
    latest = latest_values(
        spans,
        end=(b, "running"),
        end_day=(b, "day"),
        before=(a - dt.timedelta(days=1), "running"),
        middle=(pb, "running"),
        start=(pa - dt.timedelta(days=1), "running"),
    )
    for (staff_id, store_id), totals in latest.items():
        if totals["end_day"] is None or totals["end_day"] < pa:
            continue  # the series has no row in either period
        target = result[(store_id, staff_id)]
        target["current"].update(totals_parts(totals_sub(totals["end"], totals["before"])))
        target["previous"].update(totals_parts(totals_sub(totals["middle"], totals["start"])))

    # Range ends: snapshots, and the stored trailing windows when the range has a stored length.
    # A stored trailing window fits both ends only when both periods have its length.
    stored = period.days in WINDOWS and prev.days == period.days
    snapshots = (
        scope.filter(GuideDay.objects.filter(day__in=[b, pb]))
        .annotate(counts=WindowCounts(period.days) if stored else Value(None, output_field=JSONField()))
        .values_list("store_id", "staff_id", "day", "counts", *SNAPSHOT)
    )
    for store_id, staff_id, day, counts, *values in snapshots:
        target = result[(store_id, staff_id)]["current" if day == b else "previous"]
        target.update(zip(SNAPSHOT, values, strict=True))
        if stored:
            target.update(zip(WINDOW_MEASURES, counts or (0, 0, 0, 0), strict=True))
    if stored:
        return result

    # Any other length: merge each guide's stored customer sets over the blocks covering each period.
    movers = _distinct_from_blocks(result, scope=scope, period=period)
    if not movers:
        return result
    # A guide who changed store inside the periods: a customer counts in the store of their first
    # fact in the range, which the blocks do not keep, so these few guides' facts are counted.
    aggregates = {f"c__{k}": v for k, v in distinct_counts(a, b).items()}
    aggregates |= {f"p__{k}": v for k, v in distinct_counts(pa, pb).items()}
    facts = scope.filter(GuideCustomerDay.objects.filter(staff_id__in=movers, day__gte=pa, day__lte=b))
    for row in facts.values("store_id", "staff_id").annotate(**aggregates).order_by():
        target = result[(row["store_id"], row["staff_id"])]
        for key, value in row.items():
            if "__" in key:
                period_key, name = key.split("__", 1)
                target["current" if period_key == "c" else "previous"][name] = value or 0
    return result


def _distinct_from_blocks(result: dict, *, scope: Scope, period: Period) -> set[int]:
    """Fill the distinct counts of guides with one (guide, store) series in the periods from their
    blocks (two queries); returns the guides with several, whose counts need the facts."""
    prev = period.previous
    in_scope = scope.filter(GuideStoreSpan.objects.filter(first_day__lte=period.last, last_day__gte=prev.first))
    series = defaultdict(set)
    for staff_id, store_id in GuideStoreSpan.objects.filter(
        staff_id__in=in_scope.values("staff_id"), first_day__lte=period.last, last_day__gte=prev.first
    ).values_list("staff_id", "store_id"):
        series[staff_id].add(store_id)
    single = {staff_id: stores.pop() for staff_id, stores in series.items() if len(stores) == 1}
    current, previous = cover(period.first, period.last), cover(prev.first, prev.last)
    stored = blocks_read(staff_ids=single, blocks=current + previous)
    for staff_id, blocks in stored.items():
        target = result[(single[staff_id], staff_id)]
        target["current"].update(zip(WINDOW_MEASURES, range_counts(blocks, current), strict=True))
        target["previous"].update(zip(WINDOW_MEASURES, range_counts(blocks, previous), strict=True))
    return set(series) - set(single)


@dataclass
class Dashboard:
    period: Period
    scope: Scope
    total: Row
    guides: list[Row]
    stores: list[Row]


def performance_dashboard(*, scope: Scope, period: Period) -> Dashboard:
    """Totals, the guide leaderboard and the store leaderboard of a scope (5 queries)."""
    parts = _period_parts(scope=scope, period=period)
    if scope.staff_id is not None:
        guide_filter = Q(pk=scope.staff_id)
    else:
        # Guides with nothing yet in the range still belong on the board.
        current = Q(role=Staff.Role.GUIDE, is_active=True)
        if scope.store_id is not None:
            current &= Q(store_id=scope.store_id)
        guide_filter = Q(pk__in={staff_id for _, staff_id in parts}) | current
    staff = {s.pk: s for s in Staff.objects.filter(guide_filter).select_related("store")}
    store_ids = {store_id for store_id, _ in parts} | {s.store_id for s in staff.values()}
    if scope.store_id is not None:
        store_ids = {scope.store_id}
    stores = {s.pk: s for s in Store.objects.filter(pk__in=store_ids - {None})}

    guides: dict[int, Row] = {}
    store_rows: dict[int | None, Row] = {}
    for pk, member in staff.items():
        guides[pk] = Row(pk, member.name, member.store.name if member.store else "", active=member.is_active)
    for store_id, store in stores.items():
        store_rows[store_id] = Row(store_id, store.name)
    # Summed as lists in PART_NAMES order (map(add) runs in C): a brand board adds ~1,000 pairs.
    zero = [0] * len(PART_NAMES)
    total = Row(None, str(_("合计")))
    # Rows are dataclasses (unhashable): keyed by id, with [row, current, previous].
    sums = {id(row): [row, zero, zero] for row in (total, *guides.values(), *store_rows.values())}
    for (store_id, staff_id), both in parts.items():
        if staff_id not in guides:
            continue
        current = [both["current"][key] for key in PART_NAMES]
        previous = [both["previous"][key] for key in PART_NAMES]
        for row in (guides[staff_id], store_rows.get(store_id), total):
            if row is not None:
                entry = sums[id(row)]
                entry[1], entry[2] = list(map(add, entry[1], current)), list(map(add, entry[2], previous))
    for row, current, previous in sums.values():
        row.current, row.previous = (
            Parts(zip(PART_NAMES, current, strict=True)),
            Parts(zip(PART_NAMES, previous, strict=True)),
        )
    return Dashboard(
        period=period,
        scope=scope,
        total=total,
        guides=list(guides.values()),
        stores=[row for key, row in store_rows.items() if key is not None],
    )


def rows_sorted(rows: list[Row], *, key: str, descending: bool = True) -> list[Row]:
    """Sort by a figure; rows without a value go last either way."""
    with_value = [r for r in rows if r.values[key] is not None]
    without = sorted((r for r in rows if r.values[key] is None), key=lambda r: r.name)
    with_value.sort(key=lambda r: (r.values[key], -(r.key or 0)), reverse=descending)
    return with_value + without


@dataclass
class QuartileSide:
    label: str
    guides: list[Row]
    adds_per_week: float | None
    followups_per_customer: float | None
    materials_per_customer: float | None
    response_median: int | None
    tag_coverage: float | None


def quartile_side(label: str, rows: list[Row], period: Period) -> QuartileSide:
    parts = Parts.total(r.current for r in rows)
    weeks = period.days / 7
    return QuartileSide(
        label=label,
        guides=rows,
        adds_per_week=parts["adds"] / len(rows) / weeks if rows else None,
        followups_per_customer=ratio(parts["notes"], parts["active_customers"]),
        materials_per_customer=ratio(parts["sends"], parts["active_customers"]),
        response_median=response_median(parts),
        tag_coverage=ratio(parts["tagged_customers"], parts["active_customers"]),
    )


# What a guide does themself; losses and unanswered chats happen to a departed guide's customers.
GUIDE_ACTIVITY = ("adds", "orders", "gmv", "sends", "notes", *RESPONSE_FIELDS)


def _did_something(row: Row) -> bool:
    return any(row.current[name] for name in GUIDE_ACTIVITY)


# Below this many guides a quarter is one or two people: the comparison uses halves.
QUARTILE_MIN_GUIDES = 8


def quartiles(rows: list[Row], period: Period) -> tuple[QuartileSide, QuartileSide] | None:
    """Top and bottom quarter of guides by GMV; halves below QUARTILE_MIN_GUIDES (needs two guides).

    A departed guide with nothing done in the period is no one to compare with: their zeros would
    only drag the bottom quarter down.
    """
    rows = [r for r in rows if r.active or _did_something(r)]
    if len(rows) < 2:
        return None
    ranked = rows_sorted(rows, key="gmv")
    if len(ranked) < QUARTILE_MIN_GUIDES:
        # A quarter of 5 guides is one guide: compare halves instead (the page says so).
        size = len(ranked) // 2
        top, bottom = _("GMV 前一半"), _("GMV 后一半")
    else:
        size = len(ranked) // 4
        top, bottom = _("GMV 前 25%"), _("GMV 后 25%")
    return quartile_side(str(top), ranked[:size], period), quartile_side(str(bottom), ranked[-size:], period)


def performance_trend(*, scope: Scope, period: Period, figure: str) -> list[tuple[dt.date, object]]:
    """The figure for each day of the period (distinct counts are per day). Two queries."""
    by_day: dict[dt.date, Parts] = {day: Parts.empty() for day in period.each_day()}
    names = figure_parts(figure) & set(ADDITIVE + SNAPSHOT)
    # Store and brand trends read the per-store daily rollup: at most one row per store and day.
    source = StoreDay if scope.staff_id is None else GuideDay
    rows = scope.filter(source.objects.filter(day__gte=period.first, day__lte=period.last))
    sums = {n: Sum(n) for n in names}
    uses_facts = FIGURES_BY_KEY[figure].uses_facts
    if uses_facts and source is StoreDay:
        # A day's distinct customers per guide, summed over the day's stores: the same as its facts.
        sums |= {"reach": Sum("reached"), "buyers": Sum("bought"), "repeaters": Sum("rebought")}
    if sums:
        for row in rows.values("day").annotate(**{f"s__{n}": v for n, v in sums.items()}).order_by():
            by_day[row["day"]].update({n: row[f"s__{n}"] or 0 for n in sums})
    if uses_facts and source is StoreDay:
        if "converted" in figure_parts(figure):
            for day, converted in _store_days_converted(scope=scope, period=period):
                by_day[day]["converted"] = converted
    elif uses_facts:
        facts = scope.filter(GuideCustomerDay.objects.filter(day__gte=period.first, day__lte=period.last))
        for row in (
            facts.values("day")
            .annotate(
                **day_counts(),
                converted=Count("pk", filter=Q(kind=Kind.ADD, next_day__lte=period.last)),
            )
            .order_by()
        ):
            by_day[row["day"]].update({n: row[n] for n in DISTINCT})
    compute = FIGURES_BY_KEY[figure].compute
    return [(day, compute(parts)) for day, parts in sorted(by_day.items())]


def _store_days_converted(*, scope: Scope, period: Period) -> list[tuple[dt.date, int]]:
    """Per day: that day's new customers whose first order fell on or before the period's last day,
    summed out of StoreDay.converted_on by the database (one query, no JSON read into Python)."""
    # The replica when there is one, as every other rollup read (scrm.db_router).
    connection = connections[router.db_for_read(StoreDay) or DEFAULT_DB_ALIAS]
    if connection.vendor == "postgresql":
        each, value = "CROSS JOIN LATERAL jsonb_each_text(s.converted_on) e", "e.value::int"
    else:
        each, value = ", json_each(s.converted_on) e", "CAST(e.value AS INTEGER)"
    where, params = "s.day >= %s AND s.day <= %s AND e.key <= %s", [period.first, period.last, period.last.isoformat()]
    if scope.store_id is not None:
        where, params = f"{where} AND s.store_id = %s", [*params, scope.store_id]
    table = StoreDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT s.day, SUM({value}) FROM {table} s {each} WHERE {where} GROUP BY s.day", params)
        return [(day if isinstance(day, dt.date) else dt.date.fromisoformat(day), n) for day, n in cursor.fetchall()]


# --- a guide's page (raw tables, bounded) ----------------------------------------------------

GUIDE_CUSTOMERS_PER_PAGE = 20


def guide_relations(*, staff: Staff):
    """A guide's customer relations, active ones first (the page's list and its CSV export)."""
    return (
        FollowRelation.objects.filter(staff=staff)
        .select_related("customer")
        .order_by(F("ended_at").desc(nulls_first=True), "-added_at", "-pk")
    )


def guide_customers_page(*, staff: Staff, page: int):
    return Paginator(guide_relations(staff=staff), GUIDE_CUSTOMERS_PER_PAGE).get_page(page)


def guide_recent_events(*, staff: Staff, limit: int = 20) -> list[Event]:
    return list(Event.objects.filter(staff=staff).select_related("customer").order_by("-occurred_at", "-pk")[:limit])


def guide_top_materials(*, staff: Staff, period: Period, limit: int = 10) -> list[dict]:
    start, _ = day_bounds(period.first)
    _, end = day_bounds(period.last)
    return list(
        MaterialSend.objects.filter(staff=staff, status=MaterialSend.Status.SENT, sent_at__gte=start, sent_at__lt=end)
        .values("material_id", "material__title", "material__kind")
        .annotate(sends=Count("pk"), reach=Count("customer_id", distinct=True))
        .order_by("-sends", "material_id")[:limit]
    )
