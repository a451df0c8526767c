"""The guide's screens in a phone-sized Chromium: portrait, inline tags, notes, timeline filter and scroll."""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from scrm.customers.events import Channel, EventKind
from scrm.customers.models import CustomerTag, Note
from scrm.customers.services import customer_refresh_figures
from tests.browser.conftest import wait_until
from tests.factories import (
    CustomerFactory,
    EventFactory,
    FollowRelationFactory,
    OrderFactory,
    OrderLineFactory,
    StaffFactory,
    StoreFactory,
    TagFactory,
    TagGroupFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page, live_server):
    """signed_in(staff): give the browser a session cookie for that staff member."""

    def sign_in(staff):
        client = Client()
        client.force_login(staff.user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])

    return sign_in


@pytest.fixture
def scene():
    store = StoreFactory(name="静安嘉里店")
    guide = StaffFactory(store=store, name="张导购")
    customer = CustomerFactory(store=store, name="王小姐", gender=2, birthday=dt.date(1992, 5, 20))
    relation = FollowRelationFactory(staff=guide, customer=customer, remark="王姐-敏感肌", add_way=1, state="poster")
    skin = TagGroupFactory(name="肤质", order=2)
    TagFactory(group=skin, name="干皮")
    TagFactory(group=skin, name="敏感肌")
    TagFactory(group=TagGroupFactory(name="预算", order=1), name="高预算")
    now = timezone.now()
    for days in (95, 65, 35):
        order = OrderFactory(customer=customer, paid_at=now - dt.timedelta(days=days), staff=guide)
        OrderLineFactory(order=order)
    customer_refresh_figures(customer_id=customer.pk)
    for i in range(30):
        EventFactory(customer=customer, occurred_at=now - dt.timedelta(hours=i + 1), staff=guide, title=f"浏览商品 {i}")
    for i in range(3):
        EventFactory(
            customer=customer,
            occurred_at=now - dt.timedelta(days=40 + i),
            kind=EventKind.ORDER_PAID,
            channel=Channel.TMALL,
            title=f"天猫下单 {i}",
        )
    return guide, customer, relation.external_userid


def test_guide_works_the_portrait_and_timeline(page, live_server, signed_in, screenshot, scene):
    guide, customer, ext = scene
    signed_in(guide)
    page.goto(f"{live_server.url}/sidebar/c/{ext}/")
    assert page.locator("h1").inner_text().startswith("王小姐")
    assert page.get_by_text("王姐-敏感肌").is_visible()
    assert page.locator("#figures").get_by_text("¥897.00").is_visible()
    screenshot("portrait")

    # Add a tag inline: the tags card is swapped, the page is not reloaded.
    page.evaluate("window.__kept = true")
    page.get_by_text("添加标签").click()
    page.locator("#tags .picker").get_by_role("button", name="敏感肌").click()
    page.locator("#tags .chip.on", has_text="敏感肌").wait_for()
    assert page.evaluate("window.__kept") is True
    assert CustomerTag.objects.filter(customer=customer, tag__name="敏感肌").exists()
    screenshot("tag-added")

    page.get_by_role("button", name="移除标签 敏感肌").click()
    page.locator("#tags .chip.on", has_text="敏感肌").wait_for(state="detached")
    assert not CustomerTag.objects.filter(customer=customer, tag__name="敏感肌").exists()

    # Timeline tab, then a note that shows up on top at once.
    page.get_by_role("link", name="轨迹").click()
    page.locator("#events .ev").first.wait_for()
    assert page.evaluate("window.__kept") is True
    # The timeline comes first; the note form opens with one tap.
    assert not page.get_by_label("写跟进").is_visible()
    page.get_by_text("＋ 写跟进记录").click()
    # Blank text comes back as a 400 whose form (with its Chinese error) htmx swaps in.
    page.get_by_label("写跟进").fill("   ")
    page.get_by_role("button", name="保存").click()
    page.locator("#note-form .error", has_text="请填写跟进内容").wait_for()
    page.get_by_label("写跟进").fill("想要敏感肌修护套装，周末到店")
    page.get_by_role("button", name="保存").click()
    page.locator("#events .ev").first.filter(has_text="想要敏感肌修护套装").wait_for()
    assert Note.objects.get().body == "想要敏感肌修护套装，周末到店"
    assert page.get_by_label("写跟进").input_value() == ""
    screenshot("timeline")

    # Scrolling to the end reveals the sentinel, which loads page 2.
    assert page.locator("#events .ev").count() == 21
    page.locator("#events .sentinel").scroll_into_view_if_needed()
    wait_until(page, "document.querySelectorAll('#events .ev').length > 21")
    assert page.locator("#events .ev").count() == 36  # 30 views, 3 orders, 2 tag edits, the note

    # The 订单 chip filters in place.
    page.locator(".chips").get_by_role("link", name="订单").click()
    wait_until(page, "document.querySelectorAll('#events .ev').length === 3")
    assert all("天猫下单" in t for t in page.locator("#events .ev .title").all_inner_texts())
    screenshot("timeline-orders")


def _chip_in_view(page, name: str) -> bool:
    return page.evaluate(
        """name => {
            const row = document.querySelector('.chips');
            const chip = [...row.querySelectorAll('.chip')].find(c => c.textContent.trim() === name);
            const r = row.getBoundingClientRect(), c = chip.getBoundingClientRect();
            return c.left >= r.left - 1 && c.right <= r.right + 1;
        }""",
        name,
    )


def test_the_portrait_names_the_source_code_and_flags_an_overdue_purchase(page, live_server, signed_in, scene):
    guide, customer, ext = scene
    signed_in(guide)
    page.goto(f"{live_server.url}/sidebar/c/{ext}/")
    head = page.locator("header.head")
    assert "活码 门店海报" in head.inner_text()
    assert "poster" not in head.inner_text()
    # Bought every 30 days, last 35 days ago: the expected purchase is 5 days past.
    overdue = page.locator("#figures .overdue")
    assert overdue.inner_text().strip() == "已超期 5 天"
    assert overdue.evaluate("el => getComputedStyle(el).color") == "rgb(212, 107, 8)"


def test_the_note_filter_chip_is_scrolled_into_view(page, live_server, signed_in, scene, screenshot):
    guide, customer, ext = scene
    signed_in(guide)
    # Opened on its own with the filter on.
    page.goto(f"{live_server.url}/sidebar/c/{ext}/timeline/?group=note")
    assert page.evaluate("document.querySelector('.chips').scrollWidth > document.querySelector('.chips').clientWidth")
    assert _chip_in_view(page, "备注")
    screenshot("note-chip")

    # From the portrait's 写跟进 link, loaded into the page by htmx.
    page.goto(f"{live_server.url}/sidebar/c/{ext}/")
    page.locator("#notes").get_by_role("link", name="写跟进").click()
    page.locator(".chips .chip.on", has_text="备注").wait_for()
    wait_until(page, "document.querySelector('.chips').scrollLeft > 0")
    assert _chip_in_view(page, "备注")
