"""A newcomer's first hand-over in the demo: the guide who left yesterday still has customers; the store
manager hands them to a colleague and sees them 已接替 once WeCom (the simulator) settles the transfer."""

import pytest
from django.core.management import call_command
from django.test import Client

from scrm.customers.models import FollowRelation
from scrm.handover.results import handover_results_poll
from scrm.org.models import Staff
from scrm.wecom.simulator.seed import sim_seed_from_domain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_departed_guides_customers_are_handed_over_to_the_end(page, live_server, wecom_sim, settings, screenshot):
    settings.DEBUG = True  # seed_demo is a dev tool
    call_command("seed_demo", customers=60, events=600, seed=3, quiet=True, rollup_days=0)
    settings.DEBUG = False
    sim_seed_from_domain()
    leaving = Staff.objects.get(userid="hz001g04")
    waiting = FollowRelation.objects.filter(staff=leaving, ended_at__isnull=True).count()
    assert waiting > 0
    manager = Staff.objects.get(userid="hz001mgr")
    client = Client()
    client.force_login(manager.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"{live_server.url}/console/handover/")
    row = page.locator("#handover-guides tr", has_text=leaving.name)
    assert "已离职" in row.inner_text()
    row.locator("text=分配离职客户").click()
    page.wait_for_selector("#handover-form")
    taker = Staff.objects.filter(store=leaving.store, role=Staff.Role.GUIDE, is_active=True).order_by("userid").first()
    page.check(f"label:has-text('{taker.name}') >> input")
    page.wait_for_selector(f"#handover-preview:has-text('{taker.name}')")
    page.locator("#handover-form button[type=submit]").last.click()
    page.wait_for_selector("#handover-items")
    assert page.inner_text("#n-total") == str(waiting)

    # WeCom completes a departed member's transfer on its own clock; the poll brings the result in.
    settings.WECOM_SIM_TRANSFER_SECONDS = 0
    wecom_sim.transfers_settle_due()
    handover_results_poll()
    page.reload()
    assert page.locator("#handover-items tbody tr:has-text('已接替')").count() == waiting
    screenshot("accepted-390")
    assert not FollowRelation.objects.filter(staff=leaving, ended_at__isnull=True).exists()
    assert FollowRelation.objects.filter(staff=taker, ended_at__isnull=True).count() >= waiting
