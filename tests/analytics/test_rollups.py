import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from scrm.analytics.models import GuideCustomerDay, GuideDay
from scrm.analytics.services import guide_days_rollup, response_bucket, response_samples, rollup_days, rollup_recent
from scrm.customers.models import Order, OrderStatus
from tests.analytics.dataset import BJ, D, bj

Kind = GuideCustomerDay.Kind


def snapshot_rows():
    days = sorted(
        GuideDay.objects.values_list(
            "staff_id", "store_id", "day", "adds", "losses", "orders", "gmv", "sends", "notes", "rt_unanswered",
            "rt_01", "rt_03", "rt_06", "rt_08", "active_customers", "tagged_customers", "overdue_followups",
            "running",
        )
    )  # fmt: skip
    facts = sorted(
        GuideCustomerDay.objects.values_list(
            "kind", "staff_id", "customer_id", "store_id", "day", "n", "prev_day", "next_day"
        )
    )
    return days, facts


def day_row(staff, day):
    return GuideDay.objects.get(staff=staff, day=D[day])


def test_order_at_half_past_midnight_beijing_counts_on_that_beijing_day(rolled_up):
    o3 = rolled_up.orders.o3
    assert o3.paid_at.astimezone(dt.UTC).date() == D[3]  # the UTC date is the day before
    assert day_row(rolled_up.g1, 3).gmv == Decimal("150.00")  # only o2 (200 - 50 refunded)
    assert day_row(rolled_up.g1, 4).gmv == Decimal("300.00")
    assert day_row(rolled_up.g1, 4).orders == 1


def test_customer_added_at_2330_beijing_counts_on_the_same_day(rolled_up):
    assert day_row(rolled_up.g1, 1).adds == 2
    assert day_row(rolled_up.g1, 2).adds == 1


def test_fully_refunded_and_unattributed_orders_are_left_out(rolled_up):
    assert day_row(rolled_up.g1, 2).orders == 0  # o4 refunded in full
    assert day_row(rolled_up.g3, 2).gmv == Decimal("500.00")  # o8 has no guide
    assert not GuideCustomerDay.objects.filter(kind=Kind.ORDER, customer=rolled_up.customers[2]).exists()


def test_losses_count_only_customers_who_deleted_the_guide(rolled_up):
    assert day_row(rolled_up.g1, 3).losses == 1
    assert day_row(rolled_up.g2, 4).losses == 0  # the guide deleted c5


def test_end_of_day_snapshots(rolled_up):
    g1_d5 = day_row(rolled_up.g1, 5)
    assert (g1_d5.active_customers, g1_d5.tagged_customers, g1_d5.overdue_followups) == (2, 1, 1)
    # On the 2nd the follow-up due that day is not overdue yet; on the 3rd it is.
    assert day_row(rolled_up.g1, 2).overdue_followups == 0
    assert day_row(rolled_up.g1, 3).overdue_followups == 1
    # c4's tag was added on the 6th.
    assert day_row(rolled_up.g2, 5).tagged_customers == 0
    assert day_row(rolled_up.g2, 6).tagged_customers == 1


def test_response_histogram_and_unanswered(rolled_up):
    d1, d2 = day_row(rolled_up.g1, 1), day_row(rolled_up.g1, 2)
    assert d1.rt_03 == 1  # 90 s → the ≤120 s bucket
    assert (d2.rt_01, d2.rt_06) == (1, 1)  # 20 s and 600 s
    assert day_row(rolled_up.g2, 3).rt_unanswered == 1
    assert day_row(rolled_up.g3, 1).rt_08 == 1  # 1800 s


def test_response_samples_pair_first_inbound_with_the_same_guides_next_reply():
    t = bj(1, 9)
    messages = [
        (1, 7, t, "out"),
        (1, None, t + dt.timedelta(minutes=1), "in"),
        (1, 8, t + dt.timedelta(minutes=2), "out"),
        (1, 7, t + dt.timedelta(minutes=4), "out"),
    ]
    samples, unanswered = response_samples(messages)
    assert sorted(samples) == [(7, 180.0), (8, 60.0)]
    assert unanswered == []
    assert response_bucket(15) == 0
    assert response_bucket(16) == 1
    assert response_bucket(10**6) == 13


def test_link_facts(rolled_up):
    c1, c2 = rolled_up.customers[:2]
    sends = dict(
        GuideCustomerDay.objects.filter(kind=Kind.SEND, customer=c1).values_list("day", "prev_day").order_by("day")
    )
    assert sends == {D[1]: None, D[2]: D[1], D[4]: D[2]}
    order_links = list(
        GuideCustomerDay.objects.filter(kind=Kind.ORDER, customer=c1).values_list("day", "prev_day", "next_day")
    )
    assert sorted(order_links) == [(D[1], None, D[3]), (D[3], D[1], None)]
    adds = dict(
        GuideCustomerDay.objects.filter(kind=Kind.ADD, staff=rolled_up.g1).values_list("customer_id", "next_day")
    )
    assert adds == {c1.pk: D[1], c2.pk: D[4], rolled_up.customers[2].pk: None}
    # c4's order on the 2nd came before the add; the first order after it was on the 5th.
    c4 = rolled_up.customers[3]
    assert GuideCustomerDay.objects.get(kind=Kind.ADD, customer=c4).next_day == D[5]


def test_rollup_twice_gives_the_same_rows(rolled_up):
    first = snapshot_rows()
    rollup_days(first=D[1], last=D[7])
    assert snapshot_rows() == first


def test_days_rolled_up_in_any_order_give_the_same_rows(dataset):
    rollup_days(first=D[1], last=D[7])
    forward = snapshot_rows()
    GuideDay.objects.all().delete()
    GuideCustomerDay.objects.all().delete()
    for day in (7, 3, 5, 1, 6, 2, 4):
        guide_days_rollup(day=D[day])
    assert snapshot_rows() == forward


def test_recompute_after_a_late_full_refund(rolled_up):
    o3 = rolled_up.orders.o3
    Order.objects.filter(pk=o3.pk).update(status=OrderStatus.REFUNDED, refund_amount=o3.amount)
    guide_days_rollup(day=D[4])
    assert day_row(rolled_up.g1, 4).gmv == 0
    c2 = rolled_up.customers[1]
    assert not GuideCustomerDay.objects.filter(kind=Kind.ORDER, customer=c2).exists()
    assert GuideCustomerDay.objects.get(kind=Kind.ADD, customer=c2).next_day is None


def test_removing_a_middle_order_relinks_its_neighbours(rolled_up):
    c1 = rolled_up.customers[0]
    Order.objects.filter(pk=rolled_up.orders.o2.pk).delete()
    guide_days_rollup(day=D[3])
    links = list(GuideCustomerDay.objects.filter(kind=Kind.ORDER, customer=c1).values_list("day", "next_day"))
    assert links == [(D[1], None)]


def test_rollup_recent_includes_days_of_recently_refunded_orders(rolled_up):
    now = dt.datetime(2026, 3, 20, 12, tzinfo=BJ)
    o1 = rolled_up.orders.o1
    Order.objects.update(updated_at=bj(6, 12))  # nothing else changed lately
    Order.objects.filter(pk=o1.pk).update(status=OrderStatus.REFUNDED, refund_amount=o1.amount, updated_at=now)
    days = rollup_recent(now=now)
    assert days == [D[1], dt.date(2026, 3, 19), dt.date(2026, 3, 20)]
    assert day_row(rolled_up.g1, 1).gmv == 0


def test_rollup_daily_command_recomputes_a_range(dataset, capsys):
    call_command("rollup_daily", "--from", "2026-03-01", "--to", "2026-03-05")
    assert GuideDay.objects.filter(day__range=(D[1], D[5])).exists()
    assert not GuideDay.objects.filter(day=D[6]).exists()
    assert "2026-03-01" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("rollup_daily", "--from", "2026-03-05", "--to", "2026-03-01")
    with pytest.raises(CommandError):
        call_command("rollup_daily", "--from", "3/1/2026")


def test_beat_task_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["analytics-rollup-recent"]
    assert entry["task"] == "scrm.analytics.tasks.rollup_recent_days"


def test_a_customer_inherited_in_a_hand_over_is_not_a_new_customer(rolled_up):
    from scrm.customers.models import FollowRelation
    from tests.factories import FollowRelationFactory

    FollowRelationFactory(staff=rolled_up.g1, add_way=FollowRelation.ASSIGNED, added_at=bj(2, 15))
    guide_days_rollup(day=D[2])
    assert day_row(rolled_up.g1, 2).adds == 1  # still only the one friend made that day
