"""Headquarters to guides, end to end in Chromium: a manager saves a segment and makes a task card with
coupons in the console; the guide sends the card from the sidebar in /dev/chat/; the task's progress moves."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from scrm.customers.models import Event, LifecycleStage
from scrm.org.models import Staff
from scrm.taskcards.models import Coupon, TaskItem
from scrm.wecom.simulator.models import SimChatMessage
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(wecom_sim):
    store = StoreFactory(name="静安嘉里店")
    manager = StaffFactory(role=Staff.Role.MANAGER, store=store, name="周店长")
    guide = StaffFactory(store=store, name="张导购", user=None)
    wang = CustomerFactory(store=store, name="王小姐", lifecycle_stage=LifecycleStage.REPEAT)
    FollowRelationFactory(staff=guide, customer=wang, remark="王姐")
    li = CustomerFactory(store=store, name="李先生", lifecycle_stage=LifecycleStage.NEW)
    FollowRelationFactory(staff=guide, customer=li)
    wecom_sim.member_add(userid=guide.userid, name=guide.name)
    return {"store": store, "manager": manager, "guide": guide, "wang": wang}


def _as_manager(page, live_server, manager):
    client = Client()
    client.force_login(manager.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def _figure(page, name):
    return page.locator(f"[data-figure={name}]")


def test_manager_makes_a_task_and_the_guide_sends_it_from_the_chat(page, live_server, scene, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    _as_manager(page, live_server, scene["manager"])

    # A segment: repeat customers.
    page.goto(f"{live_server.url}/console/customers/")
    page.locator("#customer-filter summary").click()
    page.get_by_label("复购客").check()
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#customer-table")).to_contain_text("王小姐")
    expect(page.locator("#customer-table")).not_to_contain_text("李先生")
    page.locator("#segment-save input[name=name]").fill("复购老客")
    page.locator("#segment-save").get_by_role("button", name="保存").click()
    expect(page.locator("#segment-count")).to_contain_text("当前 1 位客户")
    screenshot("segment")

    # A task for it, with generated coupon codes.
    page.get_by_role("link", name="用此分群建任务").click()
    page.get_by_label("任务名称").fill("双旦回购券")
    page.get_by_label("话术").fill("{客户称呼}您好，送您一张回购券：{券码}")
    page.get_by_label("系统生成券码").check()
    screenshot("task-form")
    page.get_by_role("button", name="创建任务").click()
    expect(_figure(page, "assigned")).to_have_text("1")
    expect(_figure(page, "sent")).to_have_text("0")
    task_url = page.url

    # The guide, in the simulated WeCom chat with 王小姐: the card is on top of the portrait.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1360, "height": 860})
    page.goto(f"{live_server.url}/dev/chat/")
    page.select_option("#sim-guide", scene["guide"].userid)
    page.wait_for_url("**/dev/chat/?userid=*")
    page.get_by_role("link", name="王小姐").click()
    sidebar = page.frame_locator("#sim-sidebar-frame")
    card = sidebar.locator("#task-card")
    expect(card).to_contain_text("双旦回购券", timeout=15_000)
    # 今日 lists the item with the task as its reason.
    sidebar.get_by_role("link", name="今日").click()
    expect(sidebar.locator("#today-tasks")).to_contain_text("王小姐")
    expect(sidebar.locator("#today-tasks")).to_contain_text("双旦回购券（截止")
    screenshot("today-with-task")
    sidebar.get_by_role("link", name="画像").click()
    expect(card).to_contain_text("双旦回购券", timeout=15_000)
    expect(card).to_contain_text("王姐您好，送您一张回购券")
    screenshot("task-card-in-chat")
    card.get_by_role("button", name="一键发送").click()
    expect(sidebar.locator("#task-card [data-role=task-done]")).to_be_visible(timeout=15_000)
    code = Coupon.objects.get(item__customer=scene["wang"]).code
    expect(page.locator(".sim-msg-out").last).to_contain_text(re.compile(f"王姐您好.*{code}"))
    screenshot("task-card-sent")
    sent = [m for m in SimChatMessage.objects.filter(direction="out") if code in str(m.payload)]
    assert [(m.userid, m.msgtype) for m in sent] == [(scene["guide"].userid, "text")]
    assert TaskItem.objects.get(customer=scene["wang"]).state == TaskItem.State.SENT
    kinds = set(Event.objects.filter(customer=scene["wang"]).values_list("kind", flat=True))
    assert {"task_done", "coupon_sent"} <= kinds

    # Back in the console, the progress has moved.
    _as_manager(page, live_server, scene["manager"])
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(task_url)
    expect(_figure(page, "sent")).to_have_text("1")
    expect(_figure(page, "open")).to_have_text("0")
    expect(page.locator("#task-guides")).to_contain_text("张导购")
    screenshot("task-progress-375")
    page.goto(f"{live_server.url}/console/customers/?stages=repeat")
    expect(page.locator("#customer-table")).to_contain_text("王小姐")
    screenshot("customers-375")
