"""Running totals, (guide, store) spans and store days: the rollups the dashboard reads in O(guides)."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from scrm.analytics.models import ADDITIVE, GuideDay, GuideStoreSpan, StoreDay
from scrm.analytics.periods import Period
from scrm.analytics.running import guide_running_totals_rebuild, own_totals
from scrm.analytics.selectors import Scope, performance_dashboard, performance_trend
from scrm.analytics.services import guide_days_rollup, rollup_days, rollup_recent
from scrm.customers.models import Order, OrderStatus
from tests.analytics.dataset import BJ, D, bj
from tests.factories import OrderFactory

D8 = dt.date(2026, 3, 8)


def assert_running_totals_consistent():
    """Every row's running totals are the sum of its guide's rows in that store up to that day."""
    totals = defaultdict(lambda: [0] * len(ADDITIVE))
    for row in GuideDay.objects.order_by("staff_id", "store_id", "day"):
        pair = (row.staff_id, row.store_id)
        totals[pair] = [a + b for a, b in zip(totals[pair], own_totals(row), strict=True)]
        assert row.running == totals[pair], (pair, row.day)


def gmv_of(period, name, scope=None):
    board = performance_dashboard(scope=scope or Scope(), period=period)
    return {r.name: r.values["gmv"] for r in board.guides}[name]


def test_running_totals_after_a_full_rollup(rolled_up):
    assert_running_totals_consistent()
    g1_d7 = GuideDay.objects.get(staff=rolled_up.g1, day=D[7])
    assert g1_d7.running[ADDITIVE.index("gmv")] == 55000  # ¥550.00 in cents: 100 + 150 + 300
    assert g1_d7.running[ADDITIVE.index("adds")] == 3


def test_recomputing_an_old_day_fixes_every_later_running_total(rolled_up):
    o1 = rolled_up.orders.o1
    Order.objects.filter(pk=o1.pk).update(status=OrderStatus.REFUNDED, refund_amount=o1.amount)
    guide_days_rollup(day=D[1])
    assert_running_totals_consistent()
    assert gmv_of(Period(D[1], D[5]), "王小美") == Decimal("450.00")  # 550 − o1's 100
    assert gmv_of(Period(D[4], D[5]), "王小美") == Decimal("300.00")  # unchanged
    assert gmv_of(Period(D[6], D[7]), "王小美") == 0
    first = GuideDay.objects.get(staff=rolled_up.g1, day=D[6])
    assert first.running[ADDITIVE.index("gmv")] == 45000


def test_a_late_refund_through_the_beat_job_fixes_later_running_totals(rolled_up):
    o3 = rolled_up.orders.o3
    Order.objects.update(updated_at=bj(6, 12))
    now = dt.datetime(2026, 3, 7, 12, tzinfo=BJ)
    Order.objects.filter(pk=o3.pk).update(status=OrderStatus.REFUNDED, refund_amount=o3.amount, updated_at=now)
    rollup_recent(now=now)
    assert_running_totals_consistent()
    assert gmv_of(Period(D[3], D[7]), "王小美") == Decimal("150.00")


def test_a_guide_who_moves_store_keeps_each_stores_figures_apart(rolled_up):
    g2 = rolled_up.g2
    g2.store = rolled_up.store_b
    g2.save()
    OrderFactory(customer=rolled_up.customers[3], staff=g2, paid_at=dt.datetime(2026, 3, 8, 10, tzinfo=BJ), amount=40)
    rollup_days(first=D8, last=D8, today=D8)
    assert_running_totals_consistent()
    period = Period(D[4], D8)
    assert gmv_of(period, "李娜", Scope(store_id=rolled_up.store_a.pk)) == Decimal("60.00")  # o6 on D5
    assert gmv_of(period, "李娜", Scope(store_id=rolled_up.store_b.pk)) == Decimal("40.00")
    assert gmv_of(period, "李娜") == Decimal("100.00")
    # g2's first row is D2, their first activity.
    spans = set(GuideStoreSpan.objects.filter(staff=g2).values_list("store_id", "first_day", "last_day"))
    assert spans == {(rolled_up.store_a.pk, D[2], D[7]), (rolled_up.store_b.pk, D8, D8)}


def test_ranges_with_gaps_in_a_guides_rows_sum_only_the_days_in_range(rolled_up):
    # A guide with no row on a range's first or last day (e.g. not yet or no longer employed).
    GuideDay.objects.filter(staff=rolled_up.g1, day__in=[D[1], D[5]]).delete()
    guide_running_totals_rebuild()
    assert gmv_of(Period(D[1], D[5]), "王小美") == Decimal("450.00")  # 150 + 300
    assert gmv_of(Period(D[2], D[4]), "王小美") == Decimal("450.00")
    assert gmv_of(Period(D[5], D[5]), "王小美") == 0


def test_guides_with_rows_only_outside_both_periods_are_left_out(rolled_up):
    board = performance_dashboard(scope=Scope(), period=Period(D8, D8 + dt.timedelta(days=1)))
    assert board.total.values["gmv"] == 0
    assert board.total.values["adds"] == 0


def test_store_days_are_the_sums_of_that_days_guide_rows(rolled_up):
    a = StoreDay.objects.get(store=rolled_up.store_a, day=D[2])
    assert (a.adds, a.orders, a.gmv, a.sends) == (2, 1, Decimal("120.00"), 2)  # g1: c3; g2: c4, o5
    assert StoreDay.objects.get(store=rolled_up.store_b, day=D[2]).gmv == Decimal("500.00")
    o7 = rolled_up.orders.o7
    Order.objects.filter(pk=o7.pk).update(status=OrderStatus.REFUNDED, refund_amount=o7.amount)
    guide_days_rollup(day=D[2])
    guide_days_rollup(day=D[2])  # idempotent
    assert StoreDay.objects.filter(store=rolled_up.store_b, day=D[2]).get().gmv == 0
    store_trend = dict(
        performance_trend(scope=Scope(store_id=rolled_up.store_a.pk), period=Period(D[1], D[3]), figure="gmv")
    )
    assert store_trend == {D[1]: Decimal("100.00"), D[2]: Decimal("120.00"), D[3]: Decimal("150.00")}
    brand = dict(performance_trend(scope=Scope(), period=Period(D[1], D[3]), figure="orders"))
    assert brand == {D[1]: 1, D[2]: 1, D[3]: 1}
