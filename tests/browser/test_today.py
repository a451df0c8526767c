"""今日 in /dev/chat/: the workbench lists today's customers; one tap opens the chat with the reason and
the material on top of the portrait; sending it marks the item done."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from scrm.customers.events import EventKind
from scrm.today.models import ReminderItem
from scrm.today.services import reminders_refresh
from scrm.wecom.simulator.models import SimChatMessage
from tests.factories import (
    CustomerFactory,
    EventFactory,
    FollowRelationFactory,
    MaterialFactory,
    StaffFactory,
    StoreFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(wecom_sim):
    store = StoreFactory(name="静安嘉里店")
    guide = StaffFactory(store=store, name="张导购", user=None)
    wecom_sim.member_add(userid=guide.userid, name=guide.name)
    today = timezone.localdate()
    wang = FollowRelationFactory(
        staff=guide,
        customer=CustomerFactory(store=store, name="王小姐", birthday=today.replace(year=1990)),
        remark="王姐",
    )
    li = FollowRelationFactory(
        staff=guide,
        customer=CustomerFactory(
            store=store, name="李先生", birthday=(today + dt.timedelta(days=5)).replace(year=1988)
        ),
    )
    MaterialFactory(title="生日祝福", content="{客户称呼}生日快乐🎂 送您一张100元生日券～")
    EventFactory(
        customer=wang.customer,
        kind=EventKind.OA_ARTICLE_READ,
        channel="oa",
        title="阅读《换季护肤指南》",
        occurred_at=timezone.now() - dt.timedelta(hours=3),
    )
    reminders_refresh(customer_ids=[wang.customer_id, li.customer_id])
    return {"guide": guide, "wang": wang, "li": li}


def test_workbench_to_chat_to_done(page, live_server, scene, screenshot):
    guide, wang = scene["guide"], scene["wang"]
    page.set_viewport_size({"width": 1360, "height": 860})
    page.goto(f"{live_server.url}/dev/chat/?userid={guide.userid}")
    workbench = page.frame_locator("#sim-sidebar-frame")
    first = workbench.locator(".today-item").first
    expect(first).to_contain_text("王小姐", timeout=15_000)
    expect(first).to_contain_text("今天生日")
    expect(first).to_contain_text("推荐素材：生日祝福")
    expect(workbench.locator(".today-item")).to_have_count(2)
    screenshot("workbench-in-dev-chat")

    first.get_by_role("button", name="去聊天").click()
    page.wait_for_url(f"**ext={wang.external_userid}")
    sidebar = page.frame_locator("#sim-sidebar-frame")
    banner = sidebar.locator("#today-banner")
    expect(banner).to_contain_text("今日提醒 · 生日关怀", timeout=15_000)
    expect(banner).to_contain_text("今天生日")
    expect(sidebar.locator("h1")).to_contain_text("王小姐")
    expect(banner.locator(".today-since")).to_contain_text("阅读《换季护肤指南》")
    screenshot("chat-opened-from-today")

    banner.get_by_role("button", name="发送").click()
    expect(page.locator(".sim-msg-out")).to_have_count(1, timeout=15_000)
    expect(page.locator(".sim-msg-out").first).to_contain_text("王姐生日快乐")
    expect(sidebar.locator("[data-role=today-done]")).to_contain_text("已完成（发送素材）", timeout=15_000)
    item = ReminderItem.objects.get(customer=wang.customer)
    assert (item.state, item.done_via) == ("done", "material")
    assert SimChatMessage.objects.filter(direction="out", external_userid=wang.external_userid).count() == 1
    screenshot("item-done")

    page.goto(f"{live_server.url}/dev/chat/?userid={guide.userid}")
    workbench = page.frame_locator("#sim-sidebar-frame")
    expect(workbench.locator(".today-item")).to_have_count(1, timeout=15_000)
    expect(workbench.locator(".today-done")).to_contain_text("王小姐")


def test_workbench_at_375px(page, live_server, scene, screenshot):
    guide = scene["guide"]
    page.context.add_cookies([{"name": "sim_userid", "value": guide.userid, "url": live_server.url}])
    page.goto(f"{live_server.url}/sidebar/today/")
    expect(page.locator(".today-item").first).to_contain_text("王小姐", timeout=15_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot("workbench-375")
    page.locator(".today-item").first.locator("summary").click()
    page.locator(".today-item").first.get_by_role("button", name="确定忽略").click()
    screenshot("dismiss-needs-a-reason")
    page.locator(".today-item").first.get_by_role("button", name="明天").click()
    expect(page.locator(".today-item")).to_have_count(1)
    page.locator(".today-item").first.get_by_role("button", name="完成").click()
    expect(page.locator(".today-empty")).to_contain_text("今天的客户都跟进完了")
    expect(page.locator(".today-done")).to_contain_text("李先生")
    screenshot("workbench-empty-375")
    assert page.get_by_role("button", name="去聊天").count() == 0


def test_console_figures_on_a_phone(page, live_server, scene, screenshot):
    from tests.browser.test_console_performance import sign_in

    manager = StaffFactory(store=scene["guide"].store, role="manager", name="店长")
    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}/console/today/")
    expect(page.locator("table").first).to_contain_text("张导购")
    assert page.evaluate("document.documentElement.scrollWidth") <= 380
    screenshot("console-today-375")


def test_after_a_hand_over_the_inherited_customers_are_one_row_at_375px(page, live_server, scene, screenshot):
    guide = scene["guide"]
    for n in range(5):
        relation = FollowRelationFactory(staff=guide, customer=CustomerFactory(name=f"转来客户{n}"))
        ReminderItem.objects.create(
            kind="handover", customer=relation.customer, staff=guide, occurrence=f"h{n}", due_on=timezone.localdate(),
            trigger_at=timezone.now(), score=1000, context={"from": "马晓琳"},
        )  # fmt: skip
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{live_server.url}/dev/chat/?userid={guide.userid}")
    workbench = page.frame_locator("#sim-sidebar-frame")
    digest = workbench.locator("[data-digest=handover]")
    expect(digest).to_contain_text("5 位客户刚转接给你", timeout=15_000)
    expect(workbench.locator(".today-item").nth(1)).to_contain_text("王小姐")  # the birthday right below it
    screenshot("today-handover-digest-375")

    digest.get_by_role("link", name="查看转接客户").click()
    expect(workbench.locator('.today-item[data-kind="handover"]')).to_have_count(5)
    expect(workbench.locator("[data-digest=handover]")).to_have_count(0)
    screenshot("today-handover-list-375")
