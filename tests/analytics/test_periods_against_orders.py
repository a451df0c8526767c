"""Every preset and random custom ranges, across month and year ends in Asia/Shanghai, show exactly
what the orders and friend adds of those days add up to — for the period and the one it is compared
with. (本月 once showed 30 days: "current" subtracted the wrong day's running total.)"""

import datetime as dt
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from scrm.analytics.periods import Period, period_for
from scrm.analytics.selectors import Scope, performance_dashboard
from scrm.analytics.services import rollup_days
from scrm.customers.models import FollowRelation, Order, OrderStatus
from tests.factories import CustomerFactory, FollowRelationFactory, OrderFactory, StaffFactory, StoreFactory

BJ = ZoneInfo("Asia/Shanghai")
FIRST, LAST = dt.date(2026, 10, 1), dt.date(2027, 1, 31)


def _moment(rng: random.Random) -> dt.datetime:
    day = FIRST + dt.timedelta(days=rng.randrange((LAST - FIRST).days + 1))
    # Late evening orders are the ones a UTC day boundary would misplace.
    return dt.datetime.combine(day, dt.time(rng.choice([0, 7, 12, 23]), rng.randrange(60)), tzinfo=BJ)


@pytest.fixture
def history(db):
    rng = random.Random(20261205)
    store = StoreFactory()
    guides = [StaffFactory(store=store), StaffFactory(store=store)]
    for _ in range(120):
        guide = rng.choice(guides)
        customer = CustomerFactory(store=store)
        FollowRelationFactory(staff=guide, customer=customer, added_at=_moment(rng))
        refunded = rng.random() < 0.15
        OrderFactory(
            customer=customer,
            staff=guide,
            paid_at=_moment(rng),
            amount=Decimal(rng.randrange(50, 900)),
            status=OrderStatus.REFUNDED if refunded else OrderStatus.PAID,
            refund_amount=Decimal(0),
        )
    rollup_days(first=FIRST, last=LAST)


def _local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(BJ).date()


def _direct(period: Period) -> tuple[int, Decimal, int]:
    orders = [
        o
        for o in Order.objects.exclude(status=OrderStatus.REFUNDED)
        if period.first <= _local_day(o.paid_at) <= period.last
    ]
    adds = [r for r in FollowRelation.objects.all() if period.first <= _local_day(r.added_at) <= period.last]
    return len(orders), sum((o.amount - o.refund_amount for o in orders), Decimal(0)), len(adds)


def _shown(period: Period) -> tuple[tuple, tuple]:
    total = performance_dashboard(scope=Scope(), period=period).total
    current = (total.current["orders"], total.current["gmv"], total.current["adds"])
    previous = (total.previous["orders"], total.previous["gmv"], total.previous["adds"])
    return current, previous


def _assert_exact(period: Period) -> None:
    current, previous = _shown(period)
    assert current == _direct(period), f"{period.first}..{period.last}"
    assert previous == _direct(period.previous), f"previous of {period.first}..{period.last}"


@pytest.mark.parametrize("today", [dt.date(2026, 12, 5), dt.date(2027, 1, 3), dt.date(2026, 12, 31)])
@pytest.mark.parametrize("preset", ["today", "7d", "30d", "month"])
def test_every_preset_equals_the_orders_and_adds_of_its_days(history, preset, today):
    _assert_exact(period_for(preset=preset, today=today))


def test_month_to_date_is_the_days_of_this_month_only(history):
    period = period_for(preset="month", today=dt.date(2026, 12, 5))
    assert (period.first, period.last) == (dt.date(2026, 12, 1), dt.date(2026, 12, 5))
    assert (period.previous.first, period.previous.last) == (dt.date(2026, 11, 1), dt.date(2026, 11, 5))
    _assert_exact(period)


def test_random_custom_ranges_across_month_and_year_ends(history):
    rng = random.Random(7)
    span = (LAST - FIRST).days
    for _ in range(25):
        first = FIRST + dt.timedelta(days=rng.randrange(40, span))
        last = min(LAST, first + dt.timedelta(days=rng.randrange(0, 45)))
        _assert_exact(Period(first, last))
