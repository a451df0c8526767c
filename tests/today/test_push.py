"""Morning digest and urgent pushes through WeCom's message/send, against the simulator over HTTP."""

import datetime as dt
from decimal import Decimal

import pytest

from scrm.customers.events import EventKind
from scrm.customers.models import FollowRelation
from scrm.today.models import PushLog, ReminderItem, ReminderSettings
from scrm.today.push import digests_send, in_quiet_hours, urgent_send
from scrm.wecom.simulator.models import SimSentMessage
from tests.factories import CustomerFactory, EventFactory, FollowRelationFactory, OrderFactory, StaffFactory
from tests.today.conftest import NOW, SHANGHAI, refresh

MORNING = dt.datetime(2026, 3, 10, 9, 5, tzinfo=SHANGHAI)


@pytest.fixture
def sim_guide(wecom_sim):
    wecom_sim.member_add(userid="guide_a", name="导购甲")
    return StaffFactory(userid="guide_a", name="导购甲")


def _book(guide, *, birthdays=0, carts=0, now=NOW):
    customers = []
    for n in range(birthdays):
        c = CustomerFactory(name=f"生日{n}", birthday=dt.date(1990, 3, 12))
        FollowRelationFactory(staff=guide, customer=c)
        customers.append(c)
    for n in range(carts):
        c = CustomerFactory(name=f"加购{n}")
        FollowRelationFactory(staff=guide, customer=c)
        EventFactory(
            customer=c,
            kind=EventKind.ADD_TO_CART,
            occurred_at=now - dt.timedelta(hours=3),
            payload={"sku": "S", "amount": "2000"},
        )
        customers.append(c)
    refresh(*customers, now=now)
    return customers


def _messages(userid="guide_a"):
    return [m for m in SimSentMessage.objects.order_by("id") if userid in m.touser]


def test_quiet_hours_span_midnight():
    cfg = ReminderSettings()
    assert in_quiet_hours(dt.datetime(2026, 3, 10, 22, tzinfo=SHANGHAI), cfg)
    assert in_quiet_hours(dt.datetime(2026, 3, 10, 7, 59, tzinfo=SHANGHAI), cfg)
    assert not in_quiet_hours(dt.datetime(2026, 3, 10, 8, tzinfo=SHANGHAI), cfg)


def test_morning_digest_once_a_day_with_a_card_to_the_workbench(sim_guide):
    _book(sim_guide, birthdays=3, carts=2, now=MORNING)
    assert digests_send(now=MORNING - dt.timedelta(minutes=10)) == 0  # before the digest time
    assert digests_send(now=MORNING) == 1
    assert digests_send(now=MORNING + dt.timedelta(minutes=10)) == 0  # once a day

    [msg] = _messages()
    assert msg.msgtype == "template_card"
    card = msg.payload
    assert card["card_type"] == "text_notice"
    assert card["main_title"]["title"] == "今天 5 位客户待跟进"
    assert card["main_title"]["desc"] == "3 位生日关怀、2 位高意向"
    assert card["horizontal_content_list"] == [
        {"keyname": "生日关怀", "value": "3 位"},
        {"keyname": "高意向", "value": "2 位"},
    ]
    assert card["card_action"]["url"].endswith("/sidebar/today/")
    assert PushLog.objects.get(kind="digest").status == "sent"


def test_no_digest_for_a_guide_without_items_or_in_quiet_hours(sim_guide):
    StaffFactory(userid="guide_idle")
    ReminderSettings.objects.create(digest_time=dt.time(7, 0))
    _book(sim_guide, birthdays=1, now=MORNING)
    assert digests_send(now=MORNING.replace(hour=7, minute=30)) == 0  # quiet until 08:00
    assert digests_send(now=MORNING.replace(hour=8, minute=1)) == 1
    assert [m.touser for m in SimSentMessage.objects.all()] == [["guide_a"]]


def test_a_refused_digest_is_retried_on_the_next_run(sim_guide, wecom_sim):
    _book(sim_guide, birthdays=1, now=MORNING)
    wecom_sim.fault_inject(path="message/send", errcode=45009)
    assert digests_send(now=MORNING) == 0
    assert PushLog.objects.get().errcode == 45009
    assert digests_send(now=MORNING + dt.timedelta(minutes=10)) == 1
    assert len(_messages()) == 1


def test_urgent_vip_deletion_is_pushed_as_it_happens(sim_guide):
    vip = CustomerFactory(name="黄金会员")
    FollowRelationFactory(staff=sim_guide, customer=vip)
    OrderFactory(customer=vip, paid_at=NOW - dt.timedelta(days=100), amount=Decimal("8000"))
    FollowRelation.objects.filter(customer=vip).update(ended_at=NOW - dt.timedelta(minutes=1), ended_by="customer")
    assert refresh(vip)
    assert urgent_send(now=NOW) == 1
    [msg] = _messages()
    assert msg.payload["main_title"]["title"] == "紧急：删除了我"
    assert msg.payload["horizontal_content_list"][0]["value"] == "VIP 客户删除了你，仅供知悉"
    assert urgent_send(now=NOW + dt.timedelta(minutes=5)) == 0  # pushed once


def test_urgent_pushes_stop_at_the_daily_limit(sim_guide):
    ReminderSettings.objects.create(urgent_daily_limit=2)
    _book(sim_guide, carts=3)
    assert urgent_send(now=NOW) == 2
    assert urgent_send(now=NOW + dt.timedelta(minutes=5)) == 0
    assert len(_messages()) == 2
    assert ReminderItem.objects.filter(pushed_at__isnull=True, urgent_at__isnull=False).count() == 1


def test_urgent_waits_for_the_end_of_quiet_hours(sim_guide):
    late = dt.datetime(2026, 3, 10, 22, 30, tzinfo=SHANGHAI)
    _book(sim_guide, carts=1, now=late)
    assert urgent_send(now=late) == 0
    assert urgent_send(now=late.replace(hour=23)) == 0
    assert urgent_send(now=dt.datetime(2026, 3, 11, 8, 5, tzinfo=SHANGHAI)) == 1


def test_urgent_refused_by_the_rate_limit_is_retried(sim_guide, wecom_sim):
    _book(sim_guide, carts=1)
    wecom_sim.fault_inject(path="message/send", errcode=45009)
    assert urgent_send(now=NOW) == 0
    assert urgent_send(now=NOW + dt.timedelta(minutes=5)) == 1


def test_the_simulator_enforces_its_per_minute_limit_and_the_push_retries(sim_guide, settings):
    settings.WECOM_SIM_APP_MSG_PER_MINUTE = 2
    _book(sim_guide, carts=3)
    assert urgent_send(now=NOW) == 2  # the third answer is 45009: the item waits for the next sweep
    refused = PushLog.objects.get(status="failed")
    assert refused.errcode == 45009
    assert ReminderItem.objects.filter(pushed_at__isnull=True, urgent_at__isnull=False).count() == 1
    settings.WECOM_SIM_APP_MSG_PER_MINUTE = 30
    assert urgent_send(now=NOW + dt.timedelta(minutes=2)) == 1


def test_the_simulator_enforces_its_daily_limit(sim_guide, settings):
    from scrm.wecom import api
    from scrm.wecom.errors import WeComError

    settings.WECOM_SIM_APP_MSG_PER_DAY = 1
    text = {"msgtype": "text", "text": {"content": "早"}}
    api.message_send(userids=["guide_a"], msg=text)
    with pytest.raises(WeComError) as refused:
        api.message_send(userids=["guide_a"], msg=text)
    assert refused.value.errcode == 45009


def test_the_simulator_checks_template_cards(sim_guide):
    from scrm.wecom import api
    from scrm.wecom.errors import WeComError

    with pytest.raises(WeComError) as refused:
        api.message_send(userids=["guide_a"], msg={"msgtype": "template_card", "template_card": {"card_type": "x"}})
    assert refused.value.errcode == 40058


def test_dev_chat_shows_the_members_app_messages_beside_the_workbench(sim_guide, client):
    _book(sim_guide, birthdays=1, now=MORNING)
    digests_send(now=MORNING)
    html = client.get("/dev/chat/", {"userid": "guide_a"}).content.decode()
    assert "导购助手 · 应用消息" in html and "今天 1 位客户待跟进" in html and "打开今日" in html
    assert 'src="/sidebar/today/" data-role="workbench"' in html
