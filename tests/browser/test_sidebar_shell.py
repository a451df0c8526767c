"""The sidebar inside the simulated WeCom chat, in Chromium: what the guide sees after tapping around.

Debian's Chromium through Playwright (tests/browser/conftest.py; skipped when it is not installed).
"""

import pytest
from django.test import Client
from playwright.sync_api import expect

from scrm.wecom.simulator.models import SimChatMessage
from tests.factories import CustomerFactory, FollowRelationFactory, MaterialFactory, StaffFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(wecom_sim):
    store = StoreFactory(name="静安嘉里店")
    guide = StaffFactory(store=store, name="张导购", user=None)
    relation = FollowRelationFactory(
        staff=guide, customer=CustomerFactory(store=store, name="王小姐"), remark="王女士-干皮"
    )
    MaterialFactory(title="到店感谢", content="{客户称呼}，感谢今天到店！", send_count=99)
    wecom_sim.member_add(userid=guide.userid, name=guide.name)
    return {"guide": guide, "relation": relation}


def _open_chat(page, live_server, scene):
    """/dev/chat/ as the scene's guide, chatting with 王小姐: the sidebar frame once her portrait shows."""
    page.set_viewport_size({"width": 1360, "height": 860})
    page.goto(f"{live_server.url}/dev/chat/")
    page.select_option("#sim-guide", scene["guide"].userid)
    page.wait_for_url("**/dev/chat/?userid=*")
    page.get_by_role("link", name="王小姐").click()
    sidebar = page.frame_locator("#sim-sidebar-frame")
    expect(sidebar.locator("h1")).to_contain_text("王小姐", timeout=15_000)
    return sidebar


def _sidebar_frame(page):
    return page.locator("#sim-sidebar-frame").element_handle().content_frame()


def test_writing_a_note_then_sending_a_material_stays_in_the_shell(page, live_server, scene, screenshot):
    """写跟进 used to navigate the iframe off /sidebar/, and every send after it failed."""
    sidebar = _open_chat(page, live_server, scene)

    sidebar.get_by_role("link", name="写跟进").click()
    expect(sidebar.locator("#note-form textarea")).to_be_visible()
    assert _sidebar_frame(page).url.split("#")[0] == f"{live_server.url}/sidebar/"

    sidebar.locator("nav.tabs").get_by_role("link", name="素材").click()
    card = sidebar.locator(".mat", has=sidebar.locator(".mat-title", has_text="到店感谢"))
    card.get_by_role("button", name="发送").click()

    expect(card.locator("[data-role=status]")).to_have_text("已发送", timeout=15_000)
    screenshot("sent-after-writing-a-note")
    # The private note after the remark's separator never reaches the customer.
    sent = SimChatMessage.objects.get(direction="out")
    assert "王女士，感谢今天到店！" in str(sent.payload) and "干皮" not in str(sent.payload)


def test_the_retry_button_stays_hidden_when_there_is_nothing_to_retry(page, live_server, scene, screenshot):
    """Opened outside a chat the shell says so; the 重试 button must not show beside that message."""
    signed_in = Client()
    signed_in.force_login(StaffFactory().user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": signed_in.cookies["sessionid"].value, "url": live_server.url}]
    )

    page.goto(f"{live_server.url}/sidebar/")

    expect(page.locator("#shell-status")).to_contain_text("请在与客户的单聊中打开侧边栏", timeout=15_000)
    retry = page.get_by_role("button", name="重试")
    expect(retry).to_be_hidden()
    screenshot("shell-not-in-chat")
    # And it does show when the shell offers a retry.
    page.evaluate("document.querySelector('[data-role=retry]').hidden = false")
    expect(retry).to_be_visible()


def test_a_script_too_long_for_wecom_is_explained_in_chinese(page, live_server, scene, screenshot):
    from scrm.wecom.simulator.chat_views import MAX_TEXT

    MaterialFactory(title="超长话术", content="这款修护精华适合换季干燥的肌肤。" * (MAX_TEXT // 10), send_count=999)
    sidebar = _open_chat(page, live_server, scene)
    sidebar.locator("nav.tabs").get_by_role("link", name="素材").click()
    card = sidebar.locator(".mat", has=sidebar.locator(".mat-title", has_text="超长话术"))

    card.get_by_role("button", name="发送").click()
    sheet = sidebar.locator("#mat-sheet")
    expect(sheet).to_be_visible(timeout=15_000)
    sheet.get_by_role("button", name="发送").click()

    status = card.locator("[data-role=status]")
    expect(status).to_contain_text("话术太长，企业微信无法发送，请复制后分段发送", timeout=15_000)
    expect(status.locator(".mat-status-detail")).to_have_text("sendChatMessage:fail text.content too long")
    expect(card.get_by_role("button", name="复制文字")).to_be_visible()
    screenshot("too-long")


def test_a_customer_that_is_not_yours_shows_a_chinese_page_in_the_sidebar(page, live_server, scene, screenshot):
    sidebar = _open_chat(page, live_server, scene)

    # What the shell does for a chat whose customer this guide may not see.
    _sidebar_frame(page).evaluate("htmx.ajax('GET', '/sidebar/c/wmNotMine/', {target: '#main', swap: 'innerHTML'})")

    main = sidebar.locator("#main")
    expect(main).to_contain_text("找不到要查看的内容")
    expect(main).not_to_contain_text("Not Found")
    expect(main.get_by_role("link", name="返回导购助手")).to_be_visible()
    screenshot("not-yours")


def test_starring_a_material_deleted_meanwhile_says_so_on_the_card(page, live_server, scene):
    from scrm.materials.models import Material

    sidebar = _open_chat(page, live_server, scene)
    sidebar.locator("nav.tabs").get_by_role("link", name="素材").click()
    card = sidebar.locator(".mat", has=sidebar.locator(".mat-title", has_text="到店感谢"))
    expect(card).to_be_visible()
    Material.objects.filter(title="到店感谢").delete()

    card.get_by_role("button", name="收藏").click()

    expect(card.locator("[data-role=status]")).to_have_text("素材不存在或已被删除。")
