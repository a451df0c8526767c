"""Ranking on a fixed data set and clock, and the incremental path agreeing with the nightly pass."""

import datetime as dt
from decimal import Decimal

import pytest

from scrm.customers.events import Channel, EventKind
from scrm.customers.models import FollowRelation
from scrm.customers.services import note_create
from scrm.products.services import product_upsert
from scrm.today import scoring
from scrm.today.models import ReminderItem
from scrm.today.selectors import workbench_counts, workbench_items
from scrm.today.services import reminders_refresh_all
from tests.factories import EventFactory, OrderFactory, OrderLineFactory, StaffFactory
from tests.today.conftest import NOW, TODAY, days_ago, refresh

pytestmark = pytest.mark.django_db


def _paid(customer, at, amount="300.00"):
    return OrderFactory(customer=customer, paid_at=at, amount=Decimal(amount))


def build_day(guide, served, *, after_each=lambda *customers: None):
    """A guide's book on NOW: one customer per situation. after_each runs after every fact."""
    vip = served(name="VIP加购")
    _paid(vip, days_ago(200), "9000.00")
    after_each(vip)
    EventFactory(
        customer=vip,
        kind=EventKind.ADD_TO_CART,
        occurred_at=NOW - dt.timedelta(hours=1),
        payload={"sku": "S1", "name": "面霜", "amount": "1500"},
    )
    after_each(vip)

    promised = served(name="逾期跟进")
    _paid(promised, days_ago(40), "500.00")
    note_create(customer=promised, staff=guide, body="说好回电", next_contact_on=TODAY - dt.timedelta(2))
    after_each(promised)

    birthday = served(name="今天生日", birthday=dt.date(1988, 3, 10))
    _paid(birthday, days_ago(90), "2000.00")
    after_each(birthday)

    product_upsert(sku="ESS", name="精华", usage_days=30)
    runs_out = served(name="快用完")
    order = _paid(runs_out, days_ago(27))
    OrderLineFactory(order=order, sku="ESS", quantity=1)
    after_each(runs_out)

    repurchase = served(name="到复购期")
    _paid(repurchase, days_ago(57), "150.00")
    after_each(repurchase)
    _paid(repurchase, days_ago(27), "150.00")  # cycle 30 → due in 3 days
    after_each(repurchase)

    churn = served(name="新近流失")
    _paid(churn, days_ago(62))
    _paid(churn, days_ago(42))
    after_each(churn)

    gone = served(name="删了我")
    FollowRelation.objects.filter(customer=gone).update(ended_at=days_ago(1), ended_by="customer")
    after_each(gone)

    later = served(name="六天后生日", birthday=dt.date(1995, 3, 16))
    after_each(later)

    EventFactory(customer=later, kind=EventKind.MP_VISIT, channel=Channel.MP, occurred_at=days_ago(20))
    after_each(later)
    return [vip, promised, birthday, runs_out, repurchase, churn, gone, later]


def test_the_list_ranks_what_a_good_guide_does_first(guide, served):
    customers = build_day(guide, served)
    refresh(*customers)
    ranked = [(i.customer.name, i.kind) for i in workbench_items(staff=guide, today=TODAY)]
    assert ranked == [
        ("VIP加购", "intent"),  # a live cart of a big spender, an hour ago
        ("逾期跟进", "follow_up"),  # a promise two days overdue
        ("今天生日", "birthday"),  # today, a good customer
        ("新近流失", "churn"),  # at risk since yesterday
        ("快用完", "replenish"),  # in three days
        ("到复购期", "repurchase"),  # in three days, a small spender
        ("六天后生日", "birthday"),
        ("删了我", "deleted"),  # to know, not to message
    ]
    counts = workbench_counts(staff=guide, today=TODAY)
    assert counts["birthday"] == 2 and counts["handover"] == 0 and sum(counts.values()) == 8


def test_the_score_is_urgency_times_value_times_recency():
    now = NOW
    s = scoring.score(kind="birthday", due_on=TODAY, today=TODAY, total_spend=Decimal("900"), trigger_at=now, now=now)
    assert s == pytest.approx(100 * 0.8 * 1.0 * 2.0 * 1.0)
    assert scoring.timing(TODAY + dt.timedelta(4), TODAY) == pytest.approx(0.5)
    assert scoring.timing(TODAY - dt.timedelta(30), TODAY) == pytest.approx(2.0)
    assert scoring.recency(now - dt.timedelta(hours=24), now) == pytest.approx(0.75)


def _snapshot():
    return sorted(
        (i.kind, i.customer.name, i.staff_id, i.occurrence, i.due_on, round(i.score, 3), i.material_id, i.state)
        for i in ReminderItem.objects.filter(state__in=ReminderItem.LIVE_STATES).select_related("customer")
    )


def test_incremental_after_each_fact_equals_the_nightly_pass(guide, served, django_db_blocker):
    build_day(guide, served, after_each=lambda *cs: refresh(*cs))
    incremental = _snapshot()
    assert len(incremental) == 8

    ReminderItem.objects.all().delete()
    assert reminders_refresh_all(now=NOW) == 8
    assert _snapshot() == incremental


def test_nightly_pass_twice_changes_nothing_and_keeps_the_guides_work(guide, served):
    customers = build_day(guide, served)
    refresh(*customers)
    first = ReminderItem.objects.get(customer=customers[1])
    first.state = ReminderItem.State.DISMISSED
    first.save()
    reminders_refresh_all(now=NOW)
    reminders_refresh_all(now=NOW)
    assert ReminderItem.objects.count() == 8
    assert ReminderItem.objects.get(pk=first.pk).state == ReminderItem.State.DISMISSED


def test_other_guides_items_stay_off_the_list(guide, served):
    build_day(guide, served)
    reminders_refresh_all(now=NOW)
    assert list(workbench_items(staff=StaffFactory(), today=TODAY)) == []


def test_a_mere_visit_ranks_below_a_promise_and_a_cart_above(guide, served):
    visit, cart, promised = served(name="只访问"), served(name="加购了"), served(name="约好了")
    EventFactory(customer=visit, kind=EventKind.MP_VISIT, occurred_at=NOW - dt.timedelta(hours=1))
    EventFactory(customer=cart, kind=EventKind.ADD_TO_CART, occurred_at=NOW - dt.timedelta(hours=1), payload={})
    note_create(customer=promised, staff=guide, body="回电", next_contact_on=TODAY - dt.timedelta(1))
    refresh(visit, cart, promised)
    ranked = [i.customer.name for i in workbench_items(staff=guide, today=TODAY)]
    assert ranked == ["加购了", "约好了", "只访问"]
    from scrm.today.presentation import reminder_reason

    assert reminder_reason(ReminderItem.objects.get(customer=cart), TODAY) == "近期加购 1 次，还没下单"
