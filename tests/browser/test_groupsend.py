"""企业群发 end to end in Chromium: a manager creates a group send in the console, the guide confirms it in
the simulated WeCom (/dev/chat/), and the task's page shows it sent and received after 更新结果."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from scrm.customers.models import LifecycleStage
from scrm.org.models import Staff
from scrm.wecom.simulator.models import SimChatMessage
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(wecom_sim):
    store = StoreFactory(name="静安嘉里店")
    manager = StaffFactory(role=Staff.Role.MANAGER, store=store, name="周店长")
    guide = StaffFactory(store=store, name="张导购", user=None)
    wang = CustomerFactory(store=store, name="王小姐", lifecycle_stage=LifecycleStage.REPEAT)
    relation = FollowRelationFactory(staff=guide, customer=wang, remark="王姐")
    wecom_sim.member_add(userid=guide.userid, name=guide.name)
    wecom_sim.follow_add(userid=guide.userid, external_userid=relation.external_userid)
    return {"store": store, "manager": manager, "guide": guide, "relation": relation}


def _as_manager(page, live_server, manager):
    client = Client()
    client.force_login(manager.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def test_guide_confirms_a_group_send_and_the_console_shows_it_sent(page, live_server, scene, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    _as_manager(page, live_server, scene["manager"])
    page.goto(f"{live_server.url}/console/tasks/new/")
    expect(page.get_by_text("系统生成券码")).to_be_visible()
    expect(page.get_by_text("群发附件（企业群发，最多 9 个）")).to_be_hidden()
    page.get_by_label("企业群发（导购在企业微信确认）").check()
    # A group send carries no coupons: the coupon choices leave; its attachments appear.
    expect(page.get_by_text("系统生成券码")).to_be_hidden()
    expect(page.get_by_text("群发附件（企业群发，最多 9 个）")).to_be_visible()
    page.get_by_label("任务名称").fill("会员日群发")
    page.get_by_label("话术").fill("会员日全场 8 折，欢迎到店")
    page.get_by_label("复购客").check()
    screenshot("groupsend-form")
    page.get_by_role("button", name="创建任务").click()
    guides = page.locator("#groupsend-guides")
    expect(guides).to_contain_text("张导购")
    expect(guides).to_contain_text("待导购确认")
    task_url = page.url

    # The guide, in the simulated WeCom: the group send waits in 群发助手.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/dev/chat/?userid={scene['guide'].userid}")
    pending = page.locator("#groupmsgs")
    expect(pending).to_contain_text("会员日全场 8 折")
    screenshot("groupsend-pending")
    pending.get_by_role("button", name="确认发送").click()
    expect(page.locator("#groupmsgs")).to_have_count(0)
    assert SimChatMessage.objects.filter(external_userid=scene["relation"].external_userid).count() == 1

    # Back in the console: 更新结果 pulls who sent and who received it.
    _as_manager(page, live_server, scene["manager"])
    page.goto(task_url)
    page.get_by_role("button", name="从企业微信更新结果").click()
    expect(page.locator("#groupsend-guides")).to_contain_text("导购已发送")
    expect(page.locator("[data-figure=sent]")).to_have_text("1")
    expect(page.locator("#groupsend-customers")).to_contain_text("已送达")
    screenshot("groupsend-results")
