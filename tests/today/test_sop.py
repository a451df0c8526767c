"""自动化任务 (SOP rules): the items they put in 今日, with the reason; one per customer per occurrence."""

import datetime as dt

import pytest
from django.utils import timezone

from scrm.customers.models import LifecycleStage
from scrm.segments.models import Segment
from scrm.today.models import ReminderItem, ReminderKind, SopRule
from scrm.today.presentation import reminder_reason
from scrm.today.sop_services import SopDraft, sop_rule_create, sop_rule_set_enabled
from tests.factories import CustomerFactory, FollowRelationFactory, MaterialFactory, OrderFactory
from tests.today.conftest import NOW, TODAY, days_ago, live, refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def material(db):
    return MaterialFactory(title="新客福利")


def _rule(material, manager=None, **fields) -> SopRule:
    values = {"name": "新客跟进", "trigger": SopRule.Trigger.FRIEND_ADDED, "days": [0, 1, 3, 7]} | fields
    return SopRule.objects.create(material=material, **values)


def _sop_items(customer):
    return [(i.occurrence.split(":")[-1], i.due_on) for i in live(customer, kind=ReminderKind.SOP)]


def test_onboarding_series_shows_one_step_at_a_time_with_its_reason(guide, material):
    customer = CustomerFactory(store=guide.store, name="新客小王")
    relation = FollowRelationFactory(staff=guide, customer=customer, added_at=days_ago(3))
    _rule(material)

    refresh(customer)
    refresh(customer)  # the nightly pass again: nothing doubles
    (item,) = live(customer, kind=ReminderKind.SOP)
    assert item.staff == guide and item.material == material and item.due_on == TODAY
    assert item.occurrence.endswith(f"r{relation.pk}:3")
    assert reminder_reason(item, TODAY) == "自动化任务「新客跟进」：添加好友第 3 天"

    refresh(customer, now=NOW + dt.timedelta(days=1))
    assert _sop_items(customer) == [("3", TODAY)]  # still live the next day
    refresh(customer, now=NOW + dt.timedelta(days=4))
    assert _sop_items(customer) == [("7", TODAY + dt.timedelta(days=4))]
    assert ReminderItem.objects.filter(kind=ReminderKind.SOP, customer=customer).count() == 2


def test_customers_outside_the_segment_get_nothing(guide, material):
    vip = CustomerFactory(store=guide.store, lifecycle_stage=LifecycleStage.LOYAL)
    newbie = CustomerFactory(store=guide.store, lifecycle_stage=LifecycleStage.NEW)
    for c in (vip, newbie):
        FollowRelationFactory(staff=guide, customer=c, added_at=days_ago(1))
    segment = Segment.objects.create(name="忠诚客", spec={"stages": ["loyal"]})
    _rule(material, segment=segment)

    refresh(vip, newbie)
    assert _sop_items(vip) == [("1", TODAY)]
    assert _sop_items(newbie) == []


def test_days_after_an_order_birthday_and_dormant(guide, material):
    buyer = CustomerFactory(store=guide.store)
    FollowRelationFactory(staff=guide, customer=buyer)
    OrderFactory(customer=buyer, paid_at=days_ago(2))
    birthday = CustomerFactory(store=guide.store, birthday=dt.date(1990, TODAY.month, TODAY.day))
    FollowRelationFactory(staff=guide, customer=birthday)
    sleeper = CustomerFactory(store=guide.store)
    FollowRelationFactory(staff=guide, customer=sleeper)
    OrderFactory(customer=sleeper, paid_at=days_ago(182))  # one order: 沉睡 from day 181
    _rule(material, name="售后关怀", trigger=SopRule.Trigger.ORDER_PAID, days=[2])
    _rule(material, name="生日祝福", trigger=SopRule.Trigger.BIRTHDAY, days=[0])
    _rule(material, name="唤醒", trigger=SopRule.Trigger.DORMANT, days=[0], window_days=7)

    refresh(buyer, birthday, sleeper)
    reasons = {
        c.name: [reminder_reason(i, TODAY) for i in live(c, kind=ReminderKind.SOP)] for c in (buyer, birthday, sleeper)
    }
    assert reasons[buyer.name] == ["自动化任务「售后关怀」：下单后第 2 天"]
    assert reasons[birthday.name] == ["自动化任务「生日祝福」：今天生日"]
    assert reasons[sleeper.name] == ["自动化任务「唤醒」：进入沉睡第 0 天"]


def test_disabling_a_rule_takes_its_items_back_and_enabling_brings_them_again(
    guide, material, manager, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(store=guide.store)
    FollowRelationFactory(
        staff=guide, customer=customer, added_at=timezone.now()
    )  # the recompute runs on the real clock
    draft = SopDraft(name="新客跟进", trigger="friend_added", days=[0, 1], material=material, request_key="k1")
    with django_capture_on_commit_callbacks(execute=True):
        rule = sop_rule_create(draft=draft, staff=manager)
    assert sop_rule_create(draft=draft, staff=manager) == rule  # the form submitted twice: one rule
    assert len(live(customer, kind=ReminderKind.SOP)) == 1  # evaluated at once, not only at night

    sop_rule_set_enabled(rule=rule, enabled=False)
    assert live(customer, kind=ReminderKind.SOP) == []
    with django_capture_on_commit_callbacks(execute=True):
        sop_rule_set_enabled(rule=rule, enabled=True)
    assert len(live(customer, kind=ReminderKind.SOP)) == 1


def test_a_managers_rule_reaches_only_their_stores_guides(guide, material, manager):
    customer = CustomerFactory(store=guide.store)
    FollowRelationFactory(staff=guide, customer=customer, added_at=days_ago(0))
    other_store_guide = FollowRelationFactory(customer=customer, added_at=days_ago(0)).staff
    _rule(material, store=guide.store)
    refresh(customer)
    assert [i.staff for i in live(customer, kind=ReminderKind.SOP)] == [guide]
    assert other_store_guide.store != guide.store
