"""Distinct counts over custom ranges (lengths outside the stored windows) come from the guides' customer
blocks, not the per-customer facts: for random ranges they must equal counting the facts exactly, per
guide and per store, through a guide's move between stores, re-added customers and a late refund."""

import datetime as dt
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count, Q

from scrm.analytics import selectors
from scrm.analytics.blocks import (
    EMPTY,
    _counter_add,
    blocks_read,
    counts,
    cover,
    guide_blocks_rebuild,
    merge,
    range_counts,
)
from scrm.analytics.facts import distinct_counts
from scrm.analytics.figures import DISTINCT
from scrm.analytics.models import GuideCustomerDay
from scrm.analytics.periods import Period
from scrm.analytics.selectors import Scope, performance_dashboard, performance_trend
from scrm.analytics.services import guide_days_rollup, rollup_days
from scrm.customers.models import FollowRelation, Order, OrderStatus
from tests.factories import (
    CustomerFactory,
    FollowRelationFactory,
    MaterialSendFactory,
    OrderFactory,
    StaffFactory,
    StoreFactory,
)

BJ = ZoneInfo("Asia/Shanghai")
FIRST, LAST = dt.date(2026, 10, 1), dt.date(2026, 11, 19)
MOVE = dt.date(2026, 10, 25)  # g2 moves from store A to store B after this day
Kind = GuideCustomerDay.Kind


def _moment(rng: random.Random, after: dt.datetime | None = None) -> dt.datetime:
    start = after.astimezone(BJ).date() if after else FIRST
    day = start + dt.timedelta(days=rng.randrange(max(1, (LAST - start).days + 1)))
    moment = dt.datetime.combine(day, dt.time(rng.choice([0, 9, 15, 23]), rng.randrange(60)), tzinfo=BJ)
    return max(moment, after + dt.timedelta(minutes=1)) if after else moment


@pytest.fixture
def history(db):
    rng = random.Random(20261205)
    store_a, store_b = StoreFactory(), StoreFactory()
    guides = [StaffFactory(store=store_a), StaffFactory(store=store_a), StaffFactory(store=store_b)]
    for _ in range(40):
        customer = CustomerFactory(store=store_a)
        for guide in rng.sample(guides, rng.choice([1, 1, 2])):
            added = _moment(rng)
            if rng.random() < 0.2:
                # Removed the guide and added them again: two adds, both converted by the next order.
                ended = added + dt.timedelta(hours=rng.randrange(1, 200))
                FollowRelationFactory(
                    staff=guide,
                    customer=customer,
                    added_at=added,
                    ended_at=ended,
                    ended_by=FollowRelation.EndedBy.CUSTOMER,
                )
                added = _moment(rng, after=ended)
            FollowRelationFactory(staff=guide, customer=customer, added_at=added)
            for _ in range(rng.randrange(6)):
                MaterialSendFactory(staff=guide, customer=customer, sent_at=_moment(rng))
            for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
                refunded = rng.random() < 0.15
                paid = _moment(rng)
                OrderFactory(
                    customer=customer,
                    staff=guide,
                    paid_at=paid,
                    amount=Decimal(300),
                    status=OrderStatus.REFUNDED if refunded else OrderStatus.PAID,
                )
                if rng.random() < 0.15:  # a second order the same day
                    OrderFactory(customer=customer, staff=guide, paid_at=paid + dt.timedelta(minutes=5))
    # Added, removed, added again, then bought: two adds converted by one order.
    again = CustomerFactory(store=store_a)
    FollowRelationFactory(
        staff=guides[0],
        customer=again,
        added_at=dt.datetime(2026, 10, 3, 10, tzinfo=BJ),
        ended_at=dt.datetime(2026, 10, 4, 10, tzinfo=BJ),
        ended_by=FollowRelation.EndedBy.CUSTOMER,
    )
    FollowRelationFactory(staff=guides[0], customer=again, added_at=dt.datetime(2026, 10, 6, 10, tzinfo=BJ))
    OrderFactory(customer=again, staff=guides[0], paid_at=dt.datetime(2026, 10, 9, 10, tzinfo=BJ))
    rollup_days(first=FIRST, last=MOVE, today=LAST)
    guides[1].store = store_b
    guides[1].save()
    rollup_days(first=MOVE + dt.timedelta(days=1), last=LAST, today=LAST)
    return guides


def _from_facts(period: Period) -> dict[tuple[int | None, int], list[int]]:
    """The per-customer facts' counts per (store, guide): what the console showed before blocks."""
    rows = (
        GuideCustomerDay.objects.filter(day__gte=period.first, day__lte=period.last)
        .values("store_id", "staff_id")
        .annotate(**distinct_counts(period.first, period.last))
        .order_by()
    )
    return {(r["store_id"], r["staff_id"]): [r[k] for k in DISTINCT] for r in rows}


def _sum_by(counts: dict, index: int) -> dict[int, list[int]]:
    result: dict = {}
    for key, values in counts.items():
        total = result.setdefault(key[index], [0] * len(DISTINCT))
        result[key[index]] = [a + b for a, b in zip(total, values, strict=True)]
    return {k: v for k, v in result.items() if any(v)}


def _shown(period: Period) -> tuple[dict, dict, dict, dict]:
    board = performance_dashboard(scope=Scope(), period=period)

    def distinct(rows, side):
        return {
            r.key: [getattr(r, side)[k] for k in DISTINCT] for r in rows if any(getattr(r, side)[k] for k in DISTINCT)
        }

    return (
        distinct(board.guides, "current"),
        distinct(board.stores, "current"),
        distinct(board.guides, "previous"),
        distinct(board.stores, "previous"),
    )


def _expected(period: Period) -> tuple[dict, dict, dict, dict]:
    current, previous = _from_facts(period), _from_facts(period.previous)
    return _sum_by(current, 1), _sum_by(current, 0), _sum_by(previous, 1), _sum_by(previous, 0)


def _random_periods(rng: random.Random, n: int) -> list[Period]:
    periods = []
    for _ in range(n):
        first = FIRST + dt.timedelta(days=rng.randrange(-5, (LAST - FIRST).days))
        periods.append(Period(first, min(LAST, first + dt.timedelta(days=rng.randrange(0, 50)))))
    return periods


def test_random_custom_ranges_equal_counting_the_facts(history, monkeypatch):
    monkeypatch.setattr(selectors, "WINDOWS", ())  # every length through the blocks
    for period in [Period(dt.date(2026, 10, 2), dt.date(2026, 10, 12)), *_random_periods(random.Random(3), 30)]:
        assert _shown(period) == _expected(period), f"{period.first}..{period.last}"


def test_blocks_written_day_by_day_equal_a_rebuild_from_the_facts(history):
    periods = _random_periods(random.Random(5), 20)
    staff_ids = [g.pk for g in history]

    def all_counts():
        stored = blocks_read(staff_ids=staff_ids, blocks=[b for p in periods for b in cover(p.first, p.last)])
        return {(s, p): range_counts(stored.get(s, {}), cover(p.first, p.last)) for s in staff_ids for p in periods}

    incremental = all_counts()
    assert guide_blocks_rebuild() > 0
    assert all_counts() == incremental


def test_a_late_refund_moves_the_custom_range_counts(history, monkeypatch):
    monkeypatch.setattr(selectors, "WINDOWS", ())
    order = Order.objects.exclude(status=OrderStatus.REFUNDED).order_by("paid_at").first()
    order.status = OrderStatus.REFUNDED
    order.save()
    guide_days_rollup(day=order.paid_at.astimezone(BJ).date())
    for period in _random_periods(random.Random(11), 10):
        assert _shown(period) == _expected(period), f"{period.first}..{period.last}"


@pytest.mark.parametrize("figure", ["reach", "buyers", "repurchase", "converted", "conversion"])
def test_brand_trend_of_distinct_figures_reads_store_days_and_equals_the_facts(history, figure):
    period = Period(dt.date(2026, 10, 10), dt.date(2026, 11, 5))
    facts = GuideCustomerDay.objects.filter(day__gte=period.first, day__lte=period.last)
    per_day = {
        r["day"]: r
        for r in facts.values("day")
        .annotate(
            reach=Count("pk", filter=Q(kind=Kind.SEND)),
            buyers=Count("pk", filter=Q(kind=Kind.ORDER)),
            repeaters=Count("pk", filter=Q(kind=Kind.ORDER, n__gte=2)),
            converted=Count("pk", filter=Q(kind=Kind.ADD, next_day__lte=period.last)),
        )
        .order_by()
    }
    points = dict(performance_trend(scope=Scope(), period=period, figure=figure))
    compute = selectors.FIGURES_BY_KEY[figure].compute
    for day, value in points.items():
        parts = selectors.Parts.empty()
        parts.update({k: v for k, v in per_day.get(day, {}).items() if k != "day"})
        parts["adds"] = sum(
            r.adds for r in selectors.StoreDay.objects.filter(day=day)
        )  # the day's adds, for 新客转化率
        assert value == compute(parts), day
    assert any(points.values())


def test_pending_adds_are_counted_per_customer():
    # Customer bit 1 added twice (two blocks), then ordered: both adds convert, as two add facts do.
    first_add, second_add, order = (0, 0, 0, (1,), 0), (0, 0, 0, (1,), 0), (0, 1, 0, (), 0)
    merged = merge(merge(first_add, second_add), order)
    assert counts(merged) == (0, 1, 0, 2)
    assert merged[3] == ()
    assert _counter_add((0b11,), (0b01,)) == (0b10, 0b01)
    assert merge(EMPTY, EMPTY) == EMPTY


def test_a_range_is_made_of_few_aligned_blocks():
    blocks = cover(dt.date(2025, 1, 3), dt.date(2026, 12, 31))
    assert len(blocks) <= 18
    days = [b[1].toordinal() + i for b in blocks for i in range(1 << b[0])]
    assert days == list(range(dt.date(2025, 1, 3).toordinal(), dt.date(2026, 12, 31).toordinal() + 1))
    assert all(first.toordinal() % (1 << level) == 0 for level, first in blocks)
