"""身份核对 in a phone-sized Chromium (375 px): a suggestion confirmed and a phone merge undone, one tap each."""

import pytest
from django.conf import settings
from django.test import Client

from scrm.customers.identity import customer_resolve_detail
from scrm.customers.models import Identity
from scrm.customers.services import phone_hash, phone_mask
from tests.factories import CustomerFactory, FollowRelationFactory, IdentityFactory, OrderFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = "13800138000"
PHONE = ("phone", phone_hash(NUMBER), phone_mask(NUMBER))


@pytest.fixture
def chat(page, live_server):
    guide = StaffFactory(name="张导购")
    mother = CustomerFactory(store=guide.store, name="王女士")
    relation = FollowRelationFactory(staff=guide, customer=mother)
    IdentityFactory(customer=mother, kind="phone", value=PHONE[1], display=PHONE[2])
    client = Client()
    client.force_login(guide.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    return mother, f"{live_server.url}/sidebar/c/{relation.external_userid}/"


def arrives(account: str, verified=()):
    rows = [("tmall", account, ""), PHONE]
    return customer_resolve_detail(identities=rows, defaults={}, verified=set(verified)).customer


def test_guide_confirms_a_suggestion_then_undoes_a_phone_merge(page, chat, screenshot):
    mother, url = chat
    OrderFactory(customer=arrives("tb_mother123"), order_no="TB-MOTHER-1")

    page.goto(url)
    review = page.locator("#identity-review")
    assert "天猫账号 tb_***123 与本客户手机号相同" in review.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot("suggestion")

    page.evaluate("window.__kept = true")
    review.get_by_role("button", name="是同一人", exact=True).click()
    page.get_by_text("已合并为同一人").wait_for()
    assert page.evaluate("window.__kept === true")  # swapped in place, no reload
    assert page.locator("#orders").get_by_text("TB-MOTHER-1").is_visible()

    # A verified phone merges the next account outright; the guide knows it is the child's.
    arrives("tb_child456", verified={"phone"})
    page.reload()
    assert "因手机号相同并入了天猫账号 tb_***456" in page.locator("#identity-review").inner_text()
    screenshot("phone-merge")

    page.locator('[data-merge] button:has-text("不是同一人")').click()
    page.get_by_text("不会再自动合并").wait_for()
    assert Identity.objects.get(value="tb_child456").customer_id != mother.pk
    assert Identity.objects.get(value="tb_mother123").customer_id == mother.pk
