"""Dashboard figures of the hand-written data set (see conftest.py), worked out by hand."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scrm.analytics import selectors
from scrm.analytics.figures import DISTINCT, Parts, Row, change_pct, response_median
from scrm.analytics.periods import Period, period_for
from scrm.analytics.selectors import Scope, performance_dashboard, performance_trend, quartiles, rows_sorted
from scrm.analytics.services import rollup_days
from tests.analytics.dataset import D
from tests.factories import FollowRelationFactory, MaterialSendFactory, OrderFactory, StaffFactory

RANGE = Period(D[1], D[5])


def by_name(rows):
    return {row.name: row for row in rows}


def test_guide_figures_over_a_range(rolled_up):
    guides = by_name(performance_dashboard(scope=Scope(), period=RANGE).guides)
    g1 = guides["王小美"].values
    assert (g1["adds"], g1["losses"], g1["net"]) == (3, 1, 2)
    assert (g1["orders"], g1["gmv"], g1["aov"]) == (3, Decimal("550.00"), Decimal("183.33"))
    assert g1["converted"] == 2  # c1 and c2; c3's only order was refunded in full
    assert g1["conversion"] == pytest.approx(2 / 3)
    assert g1["repurchase"] == pytest.approx(0.5)  # c1 twice, c2 once
    assert (g1["sends"], g1["reach"], g1["notes"], g1["overdue"]) == (4, 2, 3, 1)
    assert g1["tag_coverage"] == pytest.approx(0.5)  # c1 tagged of c1, c2 (c3 left)
    assert g1["response"] == 120  # 20 s, 90 s, 600 s → median 90 s, in the ≤120 s bucket

    g2 = guides["李娜"].values
    assert (g2["adds"], g2["losses"], g2["orders"], g2["gmv"]) == (2, 0, 2, Decimal("180.00"))
    assert g2["converted"] == 1  # c4 ordered before the add too, but only the later order counts
    assert g2["repurchase"] == pytest.approx(1.0)
    assert g2["tag_coverage"] == 0  # c4's tag came after the range
    assert g2["response"] is None  # one message, never answered

    g3 = guides["张伟"].values
    assert (g3["gmv"], g3["converted"], g3["repurchase"], g3["response"]) == (Decimal("500.00"), 1, 0, 1800)


def test_brand_and_store_totals_are_computed_from_summed_parts(rolled_up):
    board = performance_dashboard(scope=Scope(), period=RANGE)
    total = board.total.values
    assert (total["adds"], total["losses"], total["net"], total["orders"]) == (6, 1, 5, 6)
    assert total["gmv"] == Decimal("1230.00")
    assert total["aov"] == Decimal("205.00")
    assert total["conversion"] == pytest.approx(4 / 6)
    assert total["repurchase"] == pytest.approx(2 / 4)  # not the mean of 50 %, 100 %, 0 %
    assert total["tag_coverage"] == pytest.approx(1 / 4)
    assert total["response"] == 120  # 20, 90, 600, 1800 s → lower median 90 s
    stores = by_name(board.stores)
    assert stores["静安店"].values["gmv"] == Decimal("730.00")
    assert stores["静安店"].values["repurchase"] == pytest.approx(2 / 3)
    assert stores["徐汇店"].values["adds"] == 1


def test_store_scope_shows_only_that_stores_guides(rolled_up):
    board = performance_dashboard(scope=Scope(store_id=rolled_up.store_a.pk), period=RANGE)
    assert sorted(r.name for r in board.guides) == ["李娜", "王小美"]
    assert board.total.values["gmv"] == Decimal("730.00")


def test_change_against_the_previous_period_of_equal_length(rolled_up):
    period = Period(D[4], D[5])
    assert period.previous == Period(D[2], D[3])
    g1 = by_name(performance_dashboard(scope=Scope(), period=period).guides)["王小美"]
    assert (g1.values["gmv"], g1.previous_values["gmv"]) == (Decimal("300.00"), Decimal("150.00"))
    assert g1.change("gmv") == pytest.approx(100.0)
    assert (g1.values["reach"], g1.previous_values["reach"]) == (1, 2)
    assert g1.change("reach") == pytest.approx(-50.0)
    # In D2..D3 c1 bought once (o2): a buyer, not a repeat buyer, although c1 also bought on D1.
    assert (g1.previous["buyers"], g1.previous["repeaters"]) == (1, 0)
    assert change_pct(5, 0) is None


def test_distinct_reach_counts_each_customer_once_per_range(rolled_up):
    g1 = by_name(performance_dashboard(scope=Scope(), period=Period(D[2], D[4])).guides)["王小美"]
    assert g1.values["sends"] == 3
    assert g1.values["reach"] == 2  # c1 on D2 and D4, c2 on D2


def test_conversion_needs_the_order_inside_the_range(rolled_up):
    g1 = by_name(performance_dashboard(scope=Scope(), period=Period(D[1], D[3])).guides)["王小美"]
    assert g1.values["converted"] == 1  # c2 bought on D4, after this range


def test_trend_per_day(rolled_up):
    points = dict(performance_trend(scope=Scope(staff_id=rolled_up.g1.pk), period=RANGE, figure="gmv"))
    assert points == {
        D[1]: Decimal("100.00"),
        D[2]: 0,
        D[3]: Decimal("150.00"),
        D[4]: Decimal("300.00"),
        D[5]: 0,
    }
    reach = dict(performance_trend(scope=Scope(), period=RANGE, figure="reach"))
    assert [reach[D[i]] for i in range(1, 6)] == [1, 2, 1, 1, 0]


def test_quartiles_by_gmv(rolled_up):
    board = performance_dashboard(scope=Scope(), period=RANGE)
    top, bottom = quartiles(board.guides, RANGE)
    assert [r.name for r in top.guides] == ["王小美"]
    assert [r.name for r in bottom.guides] == ["李娜"]
    assert top.adds_per_week == pytest.approx(3 / (5 / 7))
    assert top.followups_per_customer == pytest.approx(3 / 2)
    assert top.materials_per_customer == pytest.approx(4 / 2)
    assert (top.response_median, top.tag_coverage) == (120, 0.5)
    assert bottom.adds_per_week == pytest.approx(2 / (5 / 7))
    assert (bottom.followups_per_customer, bottom.response_median, bottom.tag_coverage) == (1, None, 0)


def test_quartile_size_is_a_quarter_of_the_guides():
    rows = []
    for i in range(9):
        row = Row(i, f"导购{i}")
        row.current["gmv"] = Decimal(i * 100)
        rows.append(row)
    top, bottom = quartiles(rows, RANGE)
    assert [r.key for r in top.guides] == [8, 7]
    assert [r.key for r in bottom.guides] == [1, 0]
    assert quartiles(rows[:1], RANGE) is None


def test_fewer_than_eight_guides_compare_halves():
    rows = []
    for i in range(5):
        row = Row(i, f"导购{i}")
        row.current["gmv"] = Decimal(i * 100)
        rows.append(row)
    top, bottom = quartiles(rows, RANGE)
    assert [r.key for r in top.guides] == [4, 3] and [r.key for r in bottom.guides] == [1, 0]
    assert (top.label, bottom.label) == ("GMV 前一半", "GMV 后一半")


def test_sorting_puts_missing_values_last(rolled_up):
    rows = performance_dashboard(scope=Scope(), period=RANGE).guides
    names = [r.name for r in rows_sorted(rows, key="response", descending=False)]
    assert names == ["王小美", "张伟", "李娜"]
    names = [r.name for r in rows_sorted(rows, key="response", descending=True)]
    assert names == ["张伟", "王小美", "李娜"]


def test_response_median_from_buckets():
    parts = Parts.empty()
    parts.update(rt_00=1, rt_03=1, rt_05=2)
    assert response_median(parts) == 120  # ≤15, ≤120, ≤300, ≤300: the lower median is the 2nd
    parts.update(rt_03=0)
    assert response_median(parts) == 300  # ≤15, ≤300, ≤300


def test_presets():
    today = dt.date(2026, 11, 28)
    assert period_for(preset="today", today=today) == Period(today, today)
    assert period_for(preset="7d", today=today) == Period(dt.date(2026, 11, 22), today)
    assert period_for(preset="30d", today=today).days == 30
    assert period_for(preset="month", today=today) == Period(dt.date(2026, 11, 1), today)
    assert Period(dt.date(2026, 11, 1), today).previous == Period(dt.date(2026, 10, 4), dt.date(2026, 10, 31))


def test_dashboard_query_count_does_not_grow_with_data(rolled_up):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            board = performance_dashboard(scope=Scope(), period=RANGE)
            quartiles(board.guides, RANGE)
            performance_trend(scope=Scope(), period=RANGE, figure="reach")
        return len(ctx.captured_queries)

    before = count_queries()
    for _ in range(5):
        guide = StaffFactory(store=rolled_up.store_b)
        relation = FollowRelationFactory(staff=guide, added_at=rolled_up.orders.o1.paid_at)
        OrderFactory(customer=relation.customer, staff=guide, paid_at=rolled_up.orders.o7.paid_at)
        MaterialSendFactory(staff=guide, customer=relation.customer, sent_at=rolled_up.orders.o7.paid_at)
    rollup_days(first=D[1], last=D[5])
    assert count_queries() == before


@pytest.mark.parametrize("first, last", [(1, 5), (2, 4), (4, 5), (3, 3), (1, 7), (6, 7)])
def test_stored_windows_agree_with_counts_from_facts(rolled_up, monkeypatch, first, last):
    period = Period(D[first], D[last])

    def distinct(board):
        return {r.name: ([r.current[k] for k in DISTINCT], [r.previous[k] for k in DISTINCT]) for r in board.guides}

    stored = distinct(performance_dashboard(scope=Scope(), period=period))
    monkeypatch.setattr(selectors, "WINDOWS", ())  # force the per-customer facts path
    assert distinct(performance_dashboard(scope=Scope(), period=period)) == stored


def test_a_late_refund_updates_the_windows_of_later_days(rolled_up):
    from scrm.analytics.services import rollup_recent
    from scrm.customers.models import Order, OrderStatus

    o1 = rolled_up.orders.o1
    Order.objects.update(updated_at=dt.datetime(2026, 3, 6, tzinfo=dt.UTC))
    now = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)
    Order.objects.filter(pk=o1.pk).update(status=OrderStatus.REFUNDED, refund_amount=o1.amount, updated_at=now)
    rollup_recent(now=now)
    g1 = by_name(performance_dashboard(scope=Scope(), period=RANGE).guides)["王小美"]
    assert (g1.current["buyers"], g1.current["repeaters"]) == (2, 0)  # c1 now bought once (o2)


def test_month_to_date_is_compared_with_the_same_days_of_last_month():
    month = period_for(preset="month", today=dt.date(2026, 11, 29))
    assert (month.previous.first, month.previous.last) == (dt.date(2026, 10, 1), dt.date(2026, 10, 29))
    # A longer month than the one before: clamped at the previous month's end.
    march = period_for(preset="month", today=dt.date(2026, 3, 31))
    assert (march.previous.first, march.previous.last) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    january = period_for(preset="month", today=dt.date(2026, 1, 15))
    assert (january.previous.first, january.previous.last) == (dt.date(2025, 12, 1), dt.date(2025, 12, 15))


def test_departed_guide_without_activity_is_left_out_of_the_quartiles():
    rows = []
    for i in range(4):
        row = Row(i, f"导购{i}")
        row.current["gmv"] = Decimal((i + 1) * 100)
        rows.append(row)
    gone = Row(99, "已离职", active=False)  # all zeros
    top, bottom = quartiles([*rows, gone], RANGE)
    assert [r.key for r in bottom.guides] == [1, 0]  # four guides compared, by halves
    assert [r.key for r in top.guides] == [3, 2]
    # One who left but still sold in the period is compared like everyone else.
    gone.current["gmv"] = Decimal(50)
    assert [r.key for r in quartiles([*rows, gone], RANGE)[1].guides] == [0, 99]


def test_departed_guide_on_the_board_is_not_the_bottom_quarter(rolled_up):
    from tests.analytics.dataset import bj

    gone = StaffFactory(store=rolled_up.store_a, name="已离职", is_active=False)
    FollowRelationFactory(staff=gone, added_at=bj(1, 9) - dt.timedelta(days=3))
    rollup_days(first=D[1], last=D[5])
    board = performance_dashboard(scope=Scope(), period=RANGE)
    assert "已离职" in by_name(board.guides)  # still on the leaderboard
    top, bottom = quartiles(board.guides, RANGE)
    assert [r.name for r in bottom.guides] == ["李娜"]
    assert [r.name for r in top.guides] == ["王小美"]
