"""A store manager in Chromium hands two customers over to a colleague, against the live WeCom simulator."""

import pytest
from django.conf import settings
from django.test import Client

from scrm.customers.models import Tag
from scrm.handover.models import HandoverBatch
from scrm.org.models import Staff
from scrm.wecom.simulator.models import SimTransfer
from scrm.wecom.simulator.seed import sim_seed_from_domain
from tests.factories import CustomerFactory, CustomerTagFactory, FollowRelationFactory, StaffFactory, TagFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def manager_page(page, live_server, wecom_sim, store):
    manager = StaffFactory(role=Staff.Role.MANAGER, store=store, name="周店长")
    old = StaffFactory(store=store, name="王离开", userid="alice")
    StaffFactory(store=store, name="李接替", userid="bob")
    vip = TagFactory(name="VIP")
    for n in range(3):
        relation = FollowRelationFactory(staff=old, customer=CustomerFactory(store=store, name=f"顾客{n}"))
        if n < 2:
            CustomerTagFactory(customer=relation.customer, tag=vip)
    sim_seed_from_domain()
    client = Client()
    client.force_login(manager.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    page.set_viewport_size({"width": 1280, "height": 900})
    return page


def test_manager_walks_the_hand_over_form_to_the_batch_page(manager_page, live_server, screenshot):
    page = manager_page
    page.goto(f"{live_server.url}/console/handover/")
    page.click("nav.mainnav >> text=客户继承")  # the nav entry leads here too
    row = page.locator("#handover-guides tr", has_text="王离开")
    assert "3" in row.inner_text()
    row.locator("text=在职转接").click()

    page.wait_for_selector("#handover-form")
    assert "全部客户（3）" in page.inner_text("#handover-form")
    page.check("input[name=mode][value=tag]")
    vip = Tag.objects.get(name="VIP")
    page.select_option("select[name=tag]", label=f"{vip.group.name} / VIP（2）")
    page.check("label:has-text('李接替') >> input")
    page.wait_for_selector("#handover-preview:has-text('将转接 2 位客户，给李接替')")
    page.fill("textarea[name=transfer_success_msg]", "您好，之后由我为您服务～")
    screenshot("form")
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("button:has-text('确认转接')")

    page.wait_for_selector("#handover-items")
    assert "已提交 2 位客户的转接" in page.inner_text(".messages")
    assert asked == ["将转接 2 位客户，给李接替。确定转接吗？转接开始后无法撤回。"]  # the count, before moving anyone
    assert page.inner_text("#n-total") == "2" and page.inner_text("#n-waiting") == "2"
    assert page.locator("#handover-items tbody tr:has-text('等待接替')").count() == 2
    screenshot("batch")
    batch = HandoverBatch.objects.get()
    assert batch.transfer_success_msg == "您好，之后由我为您服务～"
    assert SimTransfer.objects.filter(handover_userid="alice", takeover_userid="bob").count() == 2

    # Back on the list, the batch is there with what it moved.
    page.click(".crumbs a")
    assert "标签：VIP" in page.inner_text("#handover-batches")
