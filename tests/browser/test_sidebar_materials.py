"""The material tab inside /dev/chat/: every kind goes into the simulated conversation in one tap."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from scrm.customers.events import EventKind
from scrm.customers.models import Event
from scrm.materials import sending
from scrm.materials.models import Material, MaterialSend
from scrm.wecom.simulator.models import SimChatMessage
from tests.factories import CustomerFactory, FollowRelationFactory, MaterialFactory, StaffFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Title of each kind's material in the sendable_materials fixture → the msgtype WeCom receives.
KINDS = [
    ("话术素材", "text"),
    ("图片素材", "image"),
    ("视频素材", "video"),
    ("文件素材", "file"),
    ("链接素材", "news"),
    ("小程序素材", "miniprogram"),
]


@pytest.fixture
def scene(wecom_sim, sendable_materials):
    store = StoreFactory(name="静安嘉里店")
    guide = StaffFactory(store=store, name="张导购", user=None)
    wang = FollowRelationFactory(staff=guide, customer=CustomerFactory(store=store, name="王小姐"), remark="王姐")
    wecom_sim.member_add(userid=guide.userid, name=guide.name)
    return {"guide": guide, "wang": wang}


@pytest.fixture
def desk(page):
    page.set_viewport_size({"width": 1360, "height": 860})
    return page


def _open_materials(page, live_server, guide):
    page.goto(f"{live_server.url}/dev/chat/")
    page.select_option("#sim-guide", guide.userid)
    page.wait_for_url("**/dev/chat/?userid=*")
    page.get_by_role("link", name="王小姐").click()
    sidebar = page.frame_locator("#sim-sidebar-frame")
    expect(sidebar.locator("h1")).to_contain_text("王小姐", timeout=15_000)
    sidebar.get_by_role("link", name="素材").click()
    expect(sidebar.locator("#mat-results")).to_be_visible()
    return sidebar


def _card(sidebar, title):
    return sidebar.locator(".mat", has=sidebar.locator(".mat-title", has_text=title))


def test_each_kind_is_sent_from_the_sidebar_into_the_chat(desk, live_server, scene, screenshot):
    page, guide, wang = desk, scene["guide"], scene["wang"]
    sidebar = _open_materials(page, live_server, guide)
    expect(_card(sidebar, "话术素材")).to_contain_text("王姐您好，静安嘉里店新品到店啦～")
    screenshot("materials-tab-in-chat")

    for number, (title, msgtype) in enumerate(KINDS, start=1):
        card = _card(sidebar, title)
        card.get_by_role("button", name="发送").click()
        expect(card.locator("[data-role=status]")).to_have_text("已发送", timeout=15_000)
        expect(page.locator(".sim-msg-out")).to_have_count(number)
        expect(page.locator(".sim-msg-out").last).to_have_attribute("data-msgtype", msgtype)

    out = page.locator(".sim-msg-out")
    expect(out.nth(0)).to_contain_text("王姐您好，静安嘉里店新品到店啦～")
    # Files arrive under the material's title, not the uploader's file name.
    expect(out.nth(1)).to_contain_text("图片素材.jpg")
    expect(out.nth(2)).to_contain_text("视频素材.mp4")
    expect(out.nth(3)).to_contain_text("文件素材.pdf")
    expect(out.nth(4)).to_contain_text("链接素材")
    expect(out.nth(5)).to_contain_text("pages/goods/detail.html?id=42")
    sent = list(SimChatMessage.objects.filter(direction="out").order_by("id"))
    assert [(m.userid, m.external_userid) for m in sent] == [(guide.userid, wang.external_userid)] * 6
    assert MaterialSend.objects.filter(status="sent", staff=guide, customer=wang.customer).count() == 6
    assert Event.objects.filter(kind=EventKind.MATERIAL_SENT, customer=wang.customer).count() == 6
    screenshot("all-kinds-sent")

    # They now lead the guide's recent list, newest first.
    sidebar.get_by_role("link", name="最近使用").click()
    expect(sidebar.locator(".mat .mat-title").first).to_contain_text("小程序素材")
    # The same tab at phone width, in the signed-in session.
    phone = page.context.new_page()
    phone.set_viewport_size({"width": 375, "height": 812})
    phone.goto(f"{live_server.url}/sidebar/c/{wang.external_userid}/materials/")
    expect(phone.locator(".mat")).to_have_count(6)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot("materials-375", target=phone)


def test_long_script_is_confirmed_in_a_sheet_and_a_cancel_is_neutral(desk, live_server, scene, screenshot):
    long_text = "{客户称呼}您好，" + "这款修护精华适合换季干燥的肌肤，" * 10
    MaterialFactory(title="长话术", content=long_text, send_count=999)
    page = desk
    sidebar = _open_materials(page, live_server, scene["guide"])
    card = _card(sidebar, "长话术")
    expect(card).to_contain_text("长话术")

    card.get_by_role("button", name="发送").click()
    sheet = sidebar.locator("#mat-sheet")
    expect(sheet).to_be_visible()
    expect(sheet).to_contain_text("王姐您好，这款修护精华")
    screenshot("long-script-sheet")
    sheet.get_by_role("button", name="取消").click()

    status = card.locator("[data-role=status]")
    expect(status).to_have_text("已取消")
    # The guide's own choice: not shown as an error, and nothing to copy instead.
    expect(status).not_to_have_class("mat-status error")
    assert status.evaluate("el => getComputedStyle(el).color") != "rgb(250, 81, 81)"
    expect(card.get_by_role("button", name="复制文字")).to_be_hidden()
    assert MaterialSend.objects.get().status == "cancelled"
    assert not SimChatMessage.objects.filter(direction="out").exists()

    card.get_by_role("button", name="发送").click()
    sheet.get_by_role("button", name="发送").click()
    expect(card.locator("[data-role=status]")).to_have_text("已发送", timeout=15_000)
    expect(page.locator(".sim-msg-out")).to_contain_text("王姐您好，这款修护精华")


def test_a_wecom_upload_failure_is_explained_in_the_card(desk, live_server, scene, wecom_sim):
    page = desk
    sidebar = _open_materials(page, live_server, scene["guide"])
    wecom_sim.fault_inject(path="media/upload", errcode=45009, times=5)

    card = _card(sidebar, "图片素材")
    card.get_by_role("button", name="发送").click()

    expect(card.locator("[data-role=status]")).to_contain_text("上传素材到企业微信失败", timeout=15_000)
    assert not SimChatMessage.objects.filter(direction="out").exists()


def test_the_tab_at_phone_width_searches_as_you_type(desk, live_server, scene, screenshot):
    page = desk
    _open_materials(page, live_server, scene["guide"])
    # Same browser session, the sidebar page alone at phone width.
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/sidebar/c/{scene['wang'].external_userid}/materials/")
    expect(page.locator(".mat")).to_have_count(6)

    page.get_by_role("searchbox").fill("视频")

    expect(page.locator(".mat")).to_have_count(1)
    expect(page.locator(".mat-title")).to_contain_text("视频素材")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot("search-375")


def test_media_wecom_dropped_early_is_uploaded_again_and_the_send_goes_through(desk, live_server, scene, wecom_sim):
    page, guide = desk, scene["guide"]
    sidebar = _open_materials(page, live_server, guide)
    card = _card(sidebar, "图片素材")
    card.get_by_role("button", name="发送").click()
    expect(card.locator("[data-role=status]")).to_have_text("已发送", timeout=15_000)
    image = Material.objects.get(title="图片素材")
    media_id = image.wecom_media_id
    # WeCom forgets the media before our clock says it should (3 days are not always 3 days).
    wecom_sim.media_expire(media_id=media_id)

    card.get_by_role("button", name="发送").click()

    expect(page.locator(".sim-msg-out[data-msgtype=image]")).to_have_count(2, timeout=15_000)
    # The status still reads 已发送 from the first tap, so wait for the second report itself.
    expect(card.locator("[data-role=status]")).to_have_text("已发送")
    for _ in range(50):
        if MaterialSend.objects.filter(status="sent").count() == 2:
            break
        page.wait_for_timeout(100)
    statuses = list(MaterialSend.objects.order_by("id").values_list("status", "error"))
    assert statuses == [("sent", ""), ("failed", "sendChatMessage:fail invalid media_id"), ("sent", "")]
    image.refresh_from_db()
    assert image.wecom_media_id and image.wecom_media_id != media_id


def test_a_send_outside_wecom_is_explained_and_not_recorded(desk, live_server, scene):
    page = desk
    _open_materials(page, live_server, scene["guide"])
    # The same session, the material page opened on its own: no WeCom JS-SDK behind it.
    page.goto(f"{live_server.url}/sidebar/c/{scene['wang'].external_userid}/materials/")
    card = _card(page, "话术素材")

    card.get_by_role("button", name="发送").click()

    expect(card.locator("[data-role=status]")).to_contain_text("请在企业微信的聊天侧边栏中发送")
    expect(card.get_by_role("button", name="复制文字")).to_be_visible()
    page.wait_for_timeout(500)
    assert not MaterialSend.objects.exists()


def test_a_send_is_kept_when_the_guide_switches_customer_before_the_page_reports(desk, live_server, scene, screenshot):
    """发送, then at once another customer: WeCom delivered, so the send must be counted even though the
    page that would have reported it is gone (its report is dropped here to make the race certain)."""
    page, guide, wang = desk, scene["guide"], scene["wang"]
    FollowRelationFactory(staff=guide, customer=CustomerFactory(store=guide.store, name="李先生"))
    sidebar = _open_materials(page, live_server, guide)
    page.route("**/materials/sends/**", lambda route: route.abort())

    _card(sidebar, "图片素材").get_by_role("button", name="发送").click()
    expect(page.locator(".sim-msg-out")).to_have_count(1, timeout=15_000)
    page.get_by_role("link", name="李先生").click()
    expect(page.frame_locator("#sim-sidebar-frame").locator("h1")).to_contain_text("李先生", timeout=15_000)
    screenshot("materials-switched-after-send")

    send = MaterialSend.objects.get(customer=wang.customer)
    assert send.status == "pending"
    assert sending.material_sends_settle(now=timezone.now() + sending.SEND_REPORT_WAIT + dt.timedelta(seconds=1)) == 1
    send.refresh_from_db()
    assert send.status == "sent" and send.material.title == "图片素材"
    assert Event.objects.filter(kind=EventKind.MATERIAL_SENT, customer=wang.customer).count() == 1
