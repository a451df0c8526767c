"""/dev/chat/: pick a guide and a customer, the sidebar signs in through the simulated OAuth,
loads that customer's portrait, and sends a message back into the conversation."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from scrm.wecom.simulator.chat import chat_message_add
from scrm.wecom.simulator.models import SimChatMessage, SimTicket
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chat_scene(wecom_sim):
    store = StoreFactory(name="静安嘉里店")
    guide = StaffFactory(store=store, name="张导购", user=None)
    other_guide = StaffFactory(store=store, name="李导购")
    wang = FollowRelationFactory(staff=guide, customer=CustomerFactory(store=store, name="王小姐"), remark="王姐")
    chen = FollowRelationFactory(staff=guide, customer=CustomerFactory(store=store, name="陈先生"))
    FollowRelationFactory(staff=other_guide, customer=CustomerFactory(store=store, name="李的客户"))
    for staff in (guide, other_guide):
        wecom_sim.member_add(userid=staff.userid, name=staff.name)
    chat_message_add(
        userid=guide.userid, external_userid=wang.external_userid, direction="in", payload={"content": "在吗？"}
    )
    return {"guide": guide, "other": other_guide, "wang": wang, "chen": chen}


@pytest.fixture
def desk(page):
    page.set_viewport_size({"width": 1360, "height": 860})
    return page


def _open_customer(page, live_server, guide, name: str):
    page.goto(f"{live_server.url}/dev/chat/")
    page.select_option("#sim-guide", guide.userid)
    page.wait_for_url("**/dev/chat/?userid=*")
    page.get_by_role("link", name=name).click()
    return page.frame_locator("#sim-sidebar-frame")


def test_sidebar_opens_the_selected_customer_and_sends_into_the_chat(desk, live_server, chat_scene, screenshot):
    page, guide, wang = desk, chat_scene["guide"], chat_scene["wang"]

    sidebar = _open_customer(page, live_server, guide, "王小姐")

    # The customer list shows only this guide's customers.
    expect(page.locator(".sim-contacts")).to_contain_text("陈先生")
    expect(page.locator(".sim-contacts")).not_to_contain_text("李的客户")
    expect(page.locator("#conversation")).to_contain_text("在吗？")
    # OAuth as the picked guide, JS-SDK signed, portrait of the chat's customer loaded.
    expect(sidebar.locator("h1")).to_contain_text("王小姐", timeout=15_000)
    screenshot("portrait-in-chat")

    frame = page.locator("#sim-sidebar-frame").element_handle().content_frame()
    result = frame.evaluate("window.sidebarSDK.send({msgtype: 'text', text: {content: '王姐您好，新品到店啦'}})")

    assert result["err_msg"] == "sendChatMessage:ok"
    expect(page.locator(".sim-msg-out")).to_contain_text("王姐您好，新品到店啦")
    sent = SimChatMessage.objects.get(direction="out")
    assert (sent.userid, sent.external_userid, sent.msgtype) == (guide.userid, wang.external_userid, "text")

    # The customer answers from the chat window; it appears without reloading the page.
    page.fill("#sim-compose-text", "好的，周末过去")
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".sim-msg-in").last).to_contain_text("好的，周末过去")
    screenshot("conversation")


def test_choosing_another_customer_reloads_the_sidebar_for_them(desk, live_server, chat_scene):
    page, guide = desk, chat_scene["guide"]
    sidebar = _open_customer(page, live_server, guide, "王小姐")
    expect(sidebar.locator("h1")).to_contain_text("王小姐", timeout=15_000)

    page.get_by_role("link", name="陈先生").click()

    expect(page.frame_locator("#sim-sidebar-frame").locator("h1")).to_contain_text("陈先生", timeout=15_000)


def test_switching_guide_signs_the_sidebar_in_as_the_new_guide(desk, live_server, chat_scene):
    page = desk
    _open_customer(page, live_server, chat_scene["guide"], "王小姐")
    expect(page.frame_locator("#sim-sidebar-frame").locator("h1")).to_contain_text("王小姐", timeout=15_000)

    sidebar = _open_customer(page, live_server, chat_scene["other"], "李的客户")

    expect(sidebar.locator("h1")).to_contain_text("李的客户", timeout=15_000)


def test_invalid_messages_and_signatures_fail_like_wecom(desk, live_server, chat_scene):
    page = desk
    sidebar = _open_customer(page, live_server, chat_scene["guide"], "王小姐")
    expect(sidebar.locator("h1")).to_contain_text("王小姐", timeout=15_000)
    frame = page.locator("#sim-sidebar-frame").element_handle().content_frame()

    error = frame.evaluate(
        "window.sidebarSDK.send({msgtype: 'miniprogram', miniprogram: {appid: 'wx1', title: 't', imgUrl: 'x', "
        "page: 'pages/index'}}).then(() => 'sent', e => e.message)"
    )
    assert error == "sendChatMessage:fail miniprogram.page must end with .html"
    # What the official SDK hands the (simulated) native bridge, with a forged signature.
    bad_sig = frame.evaluate(
        """new Promise(done => WeixinJSBridge.invoke('agentConfig', {corpid: 'ww_demo_corp', agentid: '1000002',
             timestamp: '1', nonceStr: 'n', signature: 'forged', jsApiList: ['sendChatMessage']},
             r => done(r.err_msg)))"""
    )
    assert bad_sig == "agentConfig:fail invalid signature"
    # The simulated client, like WeCom, refuses APIs the accepted config did not list.
    unlisted = frame.evaluate(
        "new Promise(done => WeixinJSBridge.invoke('shareToExternalContact', {}, r => done(r.err_msg)))"
    )
    assert unlisted == "shareToExternalContact:fail no permission"
    # WeCom's err_msg reaches the caller as is (the SDK's errMsg would read "invalid mediaid").
    bad_media = frame.evaluate(
        "window.sidebarSDK.send({msgtype: 'image', image: {mediaid: 'nope'}}).then(() => 'sent', e => e.message)"
    )
    assert bad_media == "sendChatMessage:fail invalid media_id"
    assert not SimChatMessage.objects.filter(direction="out").exists()


def test_sidebar_outside_a_chat_shows_a_hint(desk, live_server, chat_scene, screenshot):
    page = desk
    page.goto(f"{live_server.url}/dev/chat/?userid={chat_scene['guide'].userid}")  # sets the sim_userid cookie

    page.goto(f"{live_server.url}/sidebar/")

    expect(page.locator("#shell-status")).to_contain_text("请在与客户的单聊中打开侧边栏")
    screenshot("outside-chat")


def test_sidebar_outside_wecom_says_so_instead_of_waiting(desk, live_server, chat_scene, settings):
    page = desk
    page.goto(f"{live_server.url}/dev/chat/?userid={chat_scene['guide'].userid}")  # sets the sim_userid cookie
    settings.WECOM_SIMULATOR = False  # no simulated bridge: a plain browser, as production would see it

    page.goto(f"{live_server.url}/sidebar/")

    expect(page.locator("#shell-status")).to_contain_text("请在企业微信中打开导购助手")
    assert page.evaluate("typeof ww.register") == "function"


def test_rejected_agent_config_is_retried_once_then_explained(desk, live_server, chat_scene, screenshot):
    page = desk
    # Warm the ticket cache, then make WeCom forget those tickets: every signature we make is now stale.
    _open_customer(page, live_server, chat_scene["guide"], "王小姐")
    expect(page.frame_locator("#sim-sidebar-frame").locator("h1")).to_contain_text("王小姐", timeout=15_000)
    SimTicket.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    config_fetches = []
    page.on("request", lambda req: "/sidebar/jssdk/config" in req.url and config_fetches.append(req.url))

    page.reload()

    status = page.frame_locator("#sim-sidebar-frame").locator("#shell-status")
    expect(status).to_contain_text("企业微信接口授权失败", timeout=15_000)
    expect(status.get_by_role("button", name="重试")).to_be_visible()
    assert len(config_fetches) == 2
    screenshot("agent-config-failed")


COLD_LOAD_BUDGET = 80 * 1024
# Chrome counts a fixed 300 bytes of headers in transferSize; a resource the chat window already
# fetched (htmx) shows 0 there, so it is counted as a cold load would fetch it.
RESOURCES_JS = """[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
  .map(e => ({url: e.name, bytes: e.transferSize || e.encodedBodySize + 300}))"""


def test_sidebar_runs_the_vendored_sdk_from_our_static_within_the_cold_load_budget(
    desk, production_static_server, chat_scene
):
    page, base = desk, production_static_server.url
    redirects = []
    page.on(
        "requestfinished",
        lambda req: (
            req.frame != page.main_frame  # the sidebar iframe
            and 300 <= req.response().status < 400
            and redirects.append(req.sizes()["responseHeadersSize"])
        ),
    )
    page.goto(f"{base}/dev/chat/?userid={chat_scene['guide'].userid}")
    page.get_by_role("link", name="王小姐").click()
    expect(page.frame_locator("#sim-sidebar-frame").locator("h1")).to_contain_text("王小姐", timeout=15_000)
    frame = page.locator("#sim-sidebar-frame").element_handle().content_frame()

    # WeCom's own SDK signed in and found the customer, over the simulated native bridge.
    assert frame.evaluate("ww.SDK_VERSION") == "2.4.4"
    scripts = frame.evaluate("[...document.scripts].map(s => s.src)")
    assert scripts and all(src.startswith(f"{base}/static/") for src in scripts), scripts
    resources = frame.evaluate(RESOURCES_JS)
    assert all(r["url"].startswith(f"{base}/") for r in resources), resources  # no CDN, nothing external
    assert any("/static/vendor/wecom-jssdk-" in r["url"] for r in resources)
    total = sum(r["bytes"] for r in resources) + sum(redirects)
    assert len(redirects) >= 3  # OAuth: /sidebar/ → login → authorize → callback
    assert total < COLD_LOAD_BUDGET, sorted(resources, key=lambda r: -r["bytes"])


# Requests that went to the network (a cache hit has transferSize 0; same origin, so it is exposed).
NETWORK_JS = """[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
  .filter(e => e.transferSize > 0).map(e => e.name)"""


def test_a_warm_reopen_of_the_sidebar_asks_the_network_at_most_three_times(desk, production_static_server, chat_scene):
    page, base = desk, production_static_server.url
    page.goto(f"{base}/dev/chat/?userid={chat_scene['guide'].userid}")
    page.get_by_role("link", name="王小姐").click()
    sidebar = page.frame_locator("#sim-sidebar-frame")
    expect(sidebar.locator("h1")).to_contain_text("王小姐", timeout=15_000)
    frame = page.locator("#sim-sidebar-frame").element_handle().content_frame()
    scripts = frame.evaluate("[...document.scripts].map(s => s.src)")
    # Hashed names (collectstatic's manifest), which WhiteNoise lets the browser keep for ever.
    assert all(re.search(r"\.[0-9a-f]{12}\.js$", src) for src in scripts if src), scripts
    page.wait_for_timeout(300)  # let the first load's own follow-up requests finish

    frame.goto(frame.url)  # the guide opens the sidebar again on the same chat
    expect(sidebar.locator("h1")).to_contain_text("王小姐", timeout=15_000)
    page.wait_for_timeout(300)
    # /dev/chat/api/ is the simulator standing in for WeCom's native bridge: no request in WeCom.
    fetched = [url for url in frame.evaluate(NETWORK_JS) if "/dev/chat/api/" not in url]
    assert len(fetched) <= 3, "\n".join(fetched)
    assert not any("/static/" in url for url in fetched), fetched


def test_switching_customer_keeps_the_contact_list_where_it_was(desk, live_server, chat_scene, wecom_sim):
    guide = chat_scene["guide"]
    store = guide.store
    for n in range(40):  # a guide with a long list
        FollowRelationFactory(staff=guide, customer=CustomerFactory(store=store, name=f"客户{n:02d}"))
    page = desk
    page.goto(f"{live_server.url}/dev/chat/?userid={guide.userid}")
    page.locator(".sim-contacts").evaluate("el => el.scrollTop = el.scrollHeight")
    before = page.locator(".sim-contacts").evaluate("el => el.scrollTop")
    assert before > 200
    page.locator(".sim-contacts a.sim-contact").last.click()
    page.wait_for_url("**&ext=*")
    after = page.locator(".sim-contacts").evaluate("el => el.scrollTop")
    assert abs(after - before) < 5, (before, after)


def test_what_the_customer_types_reaches_the_guides_timeline_through_the_chat_archive(
    desk, live_server, chat_scene, screenshot, settings, tmp_path
):
    """The customer writes in the chat; WeCom archives it and calls back (msgaudit_notify); the product
    pulls the archive, and 轨迹 › 聊天 shows the message."""
    settings.WECOM_CHAT_ARCHIVE_KEY_FILE = str(tmp_path / "archive.pem")
    cache.delete("wecom_sim:msgaudit_notify")  # WeCom's 15-second spacing, from an earlier test
    page, guide = desk, chat_scene["guide"]
    sidebar = _open_customer(page, live_server, guide, "王小姐")
    expect(sidebar.locator("h1")).to_contain_text("王小姐", timeout=15_000)

    page.fill("#sim-compose-text", "这款精华有小样吗？")
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".sim-msg-in").last).to_contain_text("这款精华有小样吗？")

    sidebar.get_by_role("link", name="轨迹").click()
    chat_chip = sidebar.locator(".chips").get_by_role("link", name="聊天")
    chat_chip.click()
    expect(sidebar.locator(".chips [aria-current=true]")).to_have_text("聊天")
    expect(sidebar.locator("#feed")).to_contain_text("王小姐：这款精华有小样吗？")
    screenshot("timeline-chat-from-archive")


def test_on_a_phone_the_chat_window_is_one_column_with_the_sidebar_full_width(
    page, live_server, chat_scene, screenshot
):
    page.set_viewport_size({"width": 375, "height": 740})
    sidebar = _open_customer(page, live_server, chat_scene["guide"], "王小姐")

    expect(sidebar.locator("h1")).to_contain_text("王小姐", timeout=15_000)
    box = page.locator("#sim-sidebar-frame").bounding_box()
    assert box["x"] == 0 and box["width"] >= 370  # the guide sees the whole sidebar, nothing off-screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot("dev-chat-375")
