"""Each reminder kind from the fact that creates it to its completion (or lapse), on a fixed clock."""

import datetime as dt
from decimal import Decimal

import pytest

from scrm.customers.events import Channel, EventKind
from scrm.customers.models import FollowRelation, Note
from scrm.customers.services import note_create
from scrm.products.services import product_upsert
from scrm.today.models import ReminderItem, ReminderKind
from scrm.today.presentation import reminder_reason
from scrm.today.services import reminders_complete_for_contact
from tests.factories import EventFactory, MaterialFactory, OrderFactory, OrderLineFactory, StaffFactory
from tests.today.conftest import NOW, TODAY, days_ago, live, refresh

pytestmark = pytest.mark.django_db
State = ReminderItem.State


def _paid(customer, at, amount="300.00", **kwargs):
    return OrderFactory(customer=customer, paid_at=at, amount=Decimal(amount), **kwargs)


def test_follow_up_from_note_due_today_to_done_by_a_new_note(guide, served):
    customer = served(name="王女士")
    note = note_create(customer=customer, staff=guide, body="想试新款面霜\n下周再问", next_contact_on=TODAY)
    later = note_create(customer=customer, staff=guide, body="下周到店", next_contact_on=TODAY + dt.timedelta(7))
    refresh(customer)

    [item] = live(customer)
    assert (item.kind, item.staff, item.occurrence, item.due_on) == ("follow_up", guide, f"n{note.pk}", TODAY)
    assert reminder_reason(item, TODAY) == "约定今天联系：「想试新款面霜」"
    assert reminder_reason(item, TODAY + dt.timedelta(2)) == "跟进已逾期 2 天：「想试新款面霜」"

    assert reminders_complete_for_contact(staff_id=guide.pk, customer_id=customer.pk, via="note", at=NOW) == 1
    item.refresh_from_db()
    assert (item.state, item.done_via) == (State.DONE, "note")
    # The note's follow-up is closed; the later one is untouched and not due yet.
    assert Note.objects.get(pk=note.pk).done and not Note.objects.get(pk=later.pk).done
    refresh(customer)
    assert live(customer) == []


def test_follow_up_of_another_guide_or_a_done_note_makes_nothing(guide, served):
    customer = served()
    note_create(customer=customer, staff=StaffFactory(), body="别人的", next_contact_on=TODAY)
    note_create(customer=customer, staff=guide, body="已完成", next_contact_on=TODAY)
    Note.objects.filter(body="已完成").update(done=True)
    refresh(customer)
    assert live(customer) == []


def test_repurchase_due_window_and_lapse_when_the_customer_buys_without_contact(guide, served):
    customer = served()
    _paid(customer, days_ago(58))
    _paid(customer, days_ago(28))  # cycle 30 → expected in 2 days
    refresh(customer)
    [item] = live(customer)
    assert item.kind == ReminderKind.REPURCHASE and item.due_on == TODAY + dt.timedelta(2)
    assert reminder_reason(item, TODAY) == "预计 2 天后到复购期（回购周期约 30 天）"

    _paid(customer, NOW - dt.timedelta(hours=1))
    refresh(customer)
    item.refresh_from_db()
    assert item.state == State.EXPIRED and item.closed_at == NOW  # lapsed: bought before we reached out
    assert live(customer) == []


def test_repurchase_outside_the_window_makes_nothing(guide, served):
    customer = served()
    _paid(customer, days_ago(60))
    _paid(customer, days_ago(20))  # cycle 40 → due in 20 days
    refresh(customer)
    assert live(customer) == []


def test_repurchase_done_by_sending_a_material(guide, served):
    customer = served()
    _paid(customer, days_ago(60))
    _paid(customer, days_ago(30))
    refresh(customer)
    reminders_complete_for_contact(staff_id=guide.pk, customer_id=customer.pk, via="material", at=NOW)
    [item] = ReminderItem.objects.filter(customer=customer)
    assert (item.state, item.done_via) == (State.DONE, "material")
    refresh(customer)  # recomputing keeps the guide's work
    item.refresh_from_db()
    assert item.state == State.DONE


def test_replenish_by_product_usage_days_with_the_product_card(guide, served):
    product, _ = product_upsert(
        sku="SKU001", name="修护精华液", usage_days=30, mp_appid="wx5f3a8c9d2e1b4a67", mp_page="pages/p/1.html"
    )
    customer = served(name="王女士")
    order = _paid(customer, days_ago(27))
    OrderLineFactory(order=order, sku="SKU001", name="修护精华液", quantity=1)
    OrderLineFactory(order=order, sku="UNKNOWN", quantity=1)
    refresh(customer)

    [item] = live(customer, kind=ReminderKind.REPLENISH)
    assert item.due_on == TODAY + dt.timedelta(3)
    assert reminder_reason(item, TODAY) == "王女士的修护精华液 约 3 天后用完"
    assert item.material == product.material and item.material.kind == "miniprogram"

    # Two units last twice as long; a newer purchase of the same SKU replaces the old line.
    again = _paid(customer, NOW - dt.timedelta(hours=2))
    OrderLineFactory(order=again, sku="SKU001", quantity=2)
    refresh(customer)
    item.refresh_from_db()
    assert item.state == State.EXPIRED and live(customer, kind=ReminderKind.REPLENISH) == []


def test_churn_only_when_newly_at_risk(guide, served):
    customer = served()
    _paid(customer, days_ago(62))
    _paid(customer, days_ago(42))  # cycle 20, at risk after 2 × 20 days: since yesterday
    refresh(customer)
    [item] = live(customer, kind=ReminderKind.CHURN)
    assert item.due_on == TODAY - dt.timedelta(1)

    refresh(customer, now=NOW + dt.timedelta(days=7))  # no longer new: the reminder lapses
    item.refresh_from_db()
    assert item.state == State.EXPIRED


def test_churn_after_a_single_purchase_uses_the_admin_threshold(guide, served):
    from scrm.today.models import ReminderSettings

    ReminderSettings.objects.create(churn_no_cycle_days=90)
    customer = served()
    _paid(customer, days_ago(92))
    refresh(customer)
    assert [i.kind for i in live(customer)] == [ReminderKind.CHURN]


@pytest.mark.parametrize(
    ("birthday", "due"),
    [
        (dt.date(1990, 3, 15), dt.date(2026, 3, 15)),
        (dt.date(1990, 3, 10), dt.date(2026, 3, 10)),
        (dt.date(1990, 3, 18), None),  # 8 days away
        (dt.date(1990, 3, 9), None),  # yesterday: next one is a year away
    ],
)
def test_birthday_in_the_next_seven_days(guide, served, birthday, due):
    customer = served(birthday=birthday)
    refresh(customer)
    assert [i.due_on for i in live(customer)] == ([due] if due else [])


def test_birthday_on_29_february_counts_on_28th_in_a_common_year(guide, served):
    customer = served(birthday=dt.date(1992, 2, 29))
    refresh(customer, now=dt.datetime(2027, 2, 25, 9, tzinfo=NOW.tzinfo))
    assert [i.due_on for i in live(customer)] == [dt.date(2027, 2, 28)]


def test_deleted_the_guide_is_for_knowing_urgent_for_a_vip_and_not_done_by_contact(guide, served):
    customer = served()
    _paid(customer, days_ago(100), amount="8000.00")
    relation = FollowRelation.objects.get(customer=customer)
    ended = NOW - dt.timedelta(hours=3)
    FollowRelation.objects.filter(pk=relation.pk).update(ended_at=ended, ended_by="customer")
    urgent = refresh(customer)

    [item] = live(customer)
    assert (item.kind, item.occurrence, item.urgent_at) == ("deleted", f"r{relation.pk}", ended)
    assert urgent == [item.pk]
    assert reminder_reason(item, TODAY) == "VIP 客户删除了你，仅供知悉"
    assert reminders_complete_for_contact(staff_id=guide.pk, customer_id=customer.pk, via="note") == 0
    refresh(customer, now=NOW + dt.timedelta(days=8))
    item.refresh_from_db()
    assert item.state == State.EXPIRED


def test_handover_received_goes_to_the_new_guide(guide, served):
    old = StaffFactory(name="李导购", userid="old_guide")
    customer = served()
    EventFactory(
        customer=customer,
        kind=EventKind.TRANSFER,
        channel=Channel.WECOM,
        staff=guide,
        occurred_at=days_ago(1),
        payload={"from_userid": "old_guide", "to_userid": guide.userid},
    )
    refresh(customer)
    [item] = live(customer)
    assert item.kind == ReminderKind.HANDOVER and item.staff == guide
    assert reminder_reason(item, TODAY) == "刚从 李导购 转接给你，先打个招呼吧"
    assert old.pk not in [i.staff_id for i in live(customer)]
    reminders_complete_for_contact(staff_id=guide.pk, customer_id=customer.pk, via="material", at=NOW)
    assert live(customer) == []


def test_high_intent_without_an_order_urgent_once_a_big_cart_waited(guide, served):
    customer = served()
    cart_at = NOW - dt.timedelta(minutes=90)
    EventFactory(customer=customer, kind=EventKind.MP_PRODUCT_VIEW, occurred_at=days_ago(1), payload={"sku": "S9"})
    EventFactory(
        customer=customer,
        kind=EventKind.ADD_TO_CART,
        occurred_at=cart_at,
        payload={"sku": "S9", "name": "胜肽面霜", "price": "680", "quantity": 2},
    )
    assert refresh(customer) == []  # the cart has waited 90 minutes, not 120
    [item] = live(customer)
    assert item.kind == ReminderKind.INTENT and item.urgent_at == cart_at + dt.timedelta(hours=2)
    assert reminder_reason(item, TODAY) == "近期加购 1 次（¥1360）、浏览商品 1 次，还没下单（胜肽面霜）"

    _paid(customer, NOW - dt.timedelta(minutes=5))
    refresh(customer)
    item.refresh_from_db()
    assert item.state == State.EXPIRED


def test_intent_older_than_the_window_makes_nothing(guide, served):
    customer = served()
    EventFactory(customer=customer, kind=EventKind.MP_VISIT, occurred_at=days_ago(2.1))
    refresh(customer)
    assert live(customer) == []


def test_customer_level_kinds_go_to_every_active_guide(guide, served):
    customer = served(birthday=dt.date(1990, 3, 12))
    other = StaffFactory()
    from tests.factories import FollowRelationFactory

    FollowRelationFactory(staff=other, customer=customer)
    FollowRelationFactory(staff=StaffFactory(is_active=False), customer=customer)
    refresh(customer)
    assert sorted(i.staff_id for i in live(customer)) == sorted([guide.pk, other.pk])


def test_kind_material_is_the_most_sent_matching_material(guide, served):
    MaterialFactory(title="生日祝福", send_count=3)
    best = MaterialFactory(title="生日券提醒", send_count=9)
    MaterialFactory(title="生日旧款", send_count=20, status="unpublished")
    customer = served(birthday=dt.date(1990, 3, 11))
    refresh(customer)
    assert live(customer)[0].material == best


def test_a_customer_merged_into_another_loses_their_live_items(guide, served):
    from scrm.customers.models import Customer
    from scrm.today.services import reminders_refresh_all

    keep, drop = served(), served(birthday=dt.date(1990, 3, 12))
    refresh(drop)
    Customer.objects.filter(pk=drop.pk).update(merged_into=keep)
    refresh(drop)
    assert live(drop) == []
    ReminderItem.objects.filter(customer=drop).update(state="open", closed_at=None)
    reminders_refresh_all(now=NOW)
    assert live(drop) == []


def test_closing_a_notes_follow_up_completes_its_item(guide, served):
    from scrm.today.services import note_follow_up_close

    customer = served()
    note = note_create(customer=customer, staff=guide, body="回访", next_contact_on=TODAY - dt.timedelta(1))
    refresh(customer)
    with pytest.raises(PermissionError):
        note_follow_up_close(note=note, staff=StaffFactory())
    note_follow_up_close(note=note, staff=guide, now=NOW)
    assert Note.objects.get(pk=note.pk).done
    [item] = ReminderItem.objects.filter(customer=customer)
    assert (item.state, item.done_via) == (State.DONE, "manual")
    refresh(customer)
    assert live(customer) == []


def test_a_replenish_without_a_product_card_offers_no_unrelated_script(guide, served):
    MaterialFactory(title="礼盒推荐", send_count=50)  # popular, but about something else
    product_upsert(sku="SKU002", name="胜肽紧致眼霜", usage_days=30)
    customer = served(name="李女士")
    OrderLineFactory(order=_paid(customer, days_ago(27)), sku="SKU002", name="胜肽紧致眼霜", quantity=1)
    refresh(customer)

    [item] = live(customer, kind=ReminderKind.REPLENISH)
    assert item.material is None
