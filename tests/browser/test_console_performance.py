"""A manager on a phone and an admin on a desktop open the performance dashboard in Chromium."""

import pytest

from scrm.org.models import Staff
from tests.analytics.dataset import build_rolled_up
from tests.factories import StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, staff, password="perf-pass-1"):
    staff.user.set_password(password)
    staff.user.save()
    page.goto(f"{live_server.url}/console/login/?next=/console/performance/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/performance/**")


def test_admin_dashboard_switches_trend_and_drills_down(page, live_server, screenshot):
    data = build_rolled_up()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, StaffFactory(role=Staff.Role.ADMIN, store=None, name="品牌管理员"))
    page.fill("input[name=from]", "2026-03-01")
    page.fill("input[name=to]", "2026-03-05")
    page.click(".perf-period button[type=submit]")
    page.wait_for_selector("#guide-board")
    assert "¥1,230.00" in page.inner_text(".perf-kpis")
    assert page.locator("#guide-board tbody tr").count() == 3
    assert page.locator("#trend polyline").count() == 1
    screenshot("dashboard")

    # The trend figure switches in place through htmx, and the address follows.
    page.click("#trend nav >> text=素材触达客户")
    page.wait_for_selector("#trend h2:has-text('素材触达客户 趋势')")
    assert "trend=reach" in page.url

    page.click(f"#store-board >> text={data.store_a.name}")
    page.wait_for_selector("#guide-board")
    assert page.locator("#guide-board tbody tr").count() == 2
    page.click("#guide-board >> text=王小美")
    page.wait_for_selector("#guide-customers")
    assert "¥550.00" in page.inner_text(".perf-kpis")
    screenshot("guide")


def test_manager_dashboard_on_a_phone(page, live_server, screenshot):
    data = build_rolled_up()
    sign_in(page, live_server, data.manager_a)
    page.goto(f"{live_server.url}/console/performance/?from=2026-03-01&to=2026-03-05")
    assert page.locator("#store-board").count() == 0
    names = page.locator("#guide-board tbody th").all_inner_texts()
    assert names == ["王小美", "李娜"]
    # Wide tables scroll inside their card instead of widening the page.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 380
    # No hover on a phone: a tap on a point of the trend shows its day and value.
    dot = page.locator("#trend .perf-dot").nth(2)
    assert not dot.locator("span").is_visible()
    dot.click()
    assert dot.locator("span").is_visible() and dot.locator("span").inner_text().startswith("03-03")
    assert page.locator("#trend .perf-ytick").count() >= 2  # the axis has values
    screenshot("phone")
