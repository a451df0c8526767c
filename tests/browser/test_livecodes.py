"""渠道活码 end to end in Chromium: an admin creates a code in the console, a new customer scans it in
/dev/chat/, the welcome message arrives in the chat and the sidebar shows the code's tag and source."""

import pytest
from playwright.sync_api import expect

from scrm.customers.models import Tag, TagGroup, TagSource
from scrm.livecodes.models import LiveCode
from scrm.org.models import Staff
from tests.browser.conftest import wait_until
from tests.factories import StaffFactory, StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(wecom_sim):
    store = StoreFactory(name="静安嘉里店")
    guide = StaffFactory(store=store, name="张导购", user=None)
    wecom_sim.member_add(userid=guide.userid, name=guide.name)
    sim_group = wecom_sim.tag_group_add(name="渠道", tags=["门店扫码"])
    group = TagGroup.objects.create(name="渠道", wecom_group_id=sim_group.group_id, source=TagSource.WECOM)
    sim_tag = sim_group.tags.get()
    tag = Tag.objects.create(group=group, name="门店扫码", wecom_tag_id=sim_tag.tag_id, source=TagSource.WECOM)
    admin = StaffFactory(role=Staff.Role.ADMIN, store=None, name="运营小李")
    admin.user.set_password("ops-pass-1")
    admin.user.save()
    return {"store": store, "guide": guide, "tag": tag, "admin": admin}


def test_create_a_code_scan_it_as_a_new_customer_and_see_the_welcome_and_tags(page, live_server, scene, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/console/login/")
    page.fill("input[name=username]", scene["admin"].user.username)
    page.fill("input[name=password]", "ops-pass-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/console/**")

    page.goto(f"{live_server.url}/console/livecodes/")
    page.click("text=新建活码")
    page.fill("input[name=name]", "柜台码")
    page.select_option("select[name=channel_group]", "counter")
    page.select_option("select[name=store]", str(scene["store"].pk))
    page.select_option("select[name=spread_mode]", "single")
    page.check(f"input[name=guides][value='{scene['guide'].pk}']")
    page.check(f"input[name=tags][value='{scene['tag'].pk}']")
    page.fill("textarea[name=welcome_text]", "{客户称呼}您好，我是{导购姓名}，欢迎光临～")
    page.click("form.livecode-form button[type=submit]")
    page.wait_for_url("**/console/livecodes/*/")
    code = LiveCode.objects.get()
    expect(page.locator(".livecode-qr img.qr")).to_be_visible()
    wait_until(page, "document.querySelector('.livecode-qr img.qr').naturalWidth > 0")
    screenshot("console-detail")

    page.set_viewport_size({"width": 1360, "height": 860})
    page.goto(f"{live_server.url}/dev/chat/?userid={scene['guide'].userid}")
    page.select_option("#sim-scan-code", code.config_id)
    page.select_option("#sim-scan-ext", "")
    page.fill("#sim-scan-name", "林小姐")
    page.click("form[data-role=scan] button[type=submit]")
    page.wait_for_url("**/dev/chat/?userid=*&ext=*")

    welcome = page.locator(".sim-msg[data-msgtype=welcome]")
    expect(welcome).to_contain_text("林小姐您好，我是张导购，欢迎光临～")
    sidebar = page.frame_locator("#sim-sidebar-frame")
    expect(sidebar.locator("h1")).to_contain_text("林小姐", timeout=15_000)
    expect(sidebar.locator("#tags")).to_contain_text("门店扫码")
    expect(sidebar.locator("body")).to_contain_text("活码 门店柜台 · 柜台码")
    screenshot("welcome-in-chat")


def test_the_store_page_sorts_by_the_phones_location(page, live_server, screenshot):
    from decimal import Decimal

    for code, name, lat, lng in (
        ("S001", "静安嘉里店", "31.224", "121.447"),
        ("S002", "浦东正大店", "31.236", "121.502"),
    ):
        store = StoreFactory(code=code, name=name, latitude=Decimal(lat), longitude=Decimal(lng))
        LiveCode.objects.create(
            name=f"{name}柜台",
            channel_group="counter",
            store=store,
            state=code,
            qr_code=f"{live_server.url}/static/x.png",
        )
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 31.2361, "longitude": 121.5011})

    page.goto(f"{live_server.url}/livecodes/stores/")

    page.wait_for_url("**/livecodes/stores/?lat=*")
    expect(page.locator(".sc-nearest h2")).to_have_text("浦东正大店")
    expect(page.locator(".sc-nearest")).to_contain_text("离你最近的门店")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot("store-codes")


def test_a_store_manager_makes_a_code_on_a_phone(page, live_server, scene, screenshot):
    manager = StaffFactory(role=Staff.Role.MANAGER, store=scene["store"], name="店长")
    manager.user.set_password("mgr-pass-1")
    manager.user.save()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/console/login/")
    page.fill("input[name=username]", manager.user.username)
    page.fill("input[name=password]", "mgr-pass-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/console/**")
    page.goto(f"{live_server.url}/console/livecodes/new/")
    # Their store is the only one on offer; a cap of 0 is refused in Chinese.
    assert page.eval_on_selector_all("select[name=store] option", "os => os.map(o => o.textContent)") == ["静安嘉里店"]
    page.fill("input[name=name]", "收银台")
    page.check(f"input[name=guides][value='{scene['guide'].pk}']")
    page.fill("input[name=daily_cap]", "0")
    page.click("form.livecode-form button[type=submit]")
    expect(page.locator(".errors").first).to_contain_text("保存失败")
    expect(page.locator(".field.has-error")).to_contain_text("上限至少为 1")
    screenshot("phone-form-error")
    page.fill("input[name=daily_cap]", "20")
    page.click("form.livecode-form button[type=submit]")
    page.wait_for_url("**/console/livecodes/*/")
    expect(page.locator(".livecode-qr img.qr")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot("phone-detail")
