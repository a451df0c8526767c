"""Managers open the console on phones inside WeCom too: no console page is wider than the screen,
at 390 px and at 1280 px (wide tables scroll inside their own box)."""

import pytest
from django.conf import settings
from django.test import Client

from scrm.org.models import Staff
from tests.analytics.dataset import build_rolled_up
from tests.factories import FollowRelationFactory, MaterialFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, staff):
    client = Client()
    client.force_login(staff.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("width", [390, 1280])
def test_no_console_page_is_wider_than_the_screen(page, live_server, width, screenshot):
    data = build_rolled_up()
    admin = StaffFactory(role=Staff.Role.ADMIN, store=None, name="总部管理员")
    material = MaterialFactory(title="会员日话术" * 3)
    served = FollowRelationFactory(staff=data.g1).customer
    from scrm.livecodes.models import LiveCode, LiveCodeGuide

    code = LiveCode.objects.create(
        name="静安嘉里店收银台活码" * 2,
        channel_group="counter",
        store=data.g1.store,
        state="widths",
        welcome_text="您好" * 80,
    )
    LiveCodeGuide.objects.create(code=code, staff=data.g1)
    _sign_in(page, live_server, admin)
    page.set_viewport_size({"width": width, "height": 900})
    paths = [
        "/console/",
        "/console/performance/?from=2026-03-01&to=2026-03-05",
        f"/console/performance/stores/{data.store_a.pk}/?from=2026-03-01&to=2026-03-05",
        f"/console/performance/guides/{data.g1.pk}/?from=2026-03-01&to=2026-03-05",
        f"/console/performance/guides/{data.g1.pk}/customers/{served.pk}/",
        "/console/handover/",
        f"/console/privacy/?customer={served.pk}",
        f"/console/handover/guides/{data.g1.pk}/",
        "/console/materials/",
        f"/console/materials/{material.pk}/",
        f"/console/materials/{material.pk}/edit/",
        "/console/materials/new/text/",
        "/console/materials/bulk/",
        "/console/materials/categories/",
        "/console/livecodes/",
        "/console/livecodes/new/",
        f"/console/livecodes/{code.pk}/",
        f"/console/livecodes/{code.pk}/edit/",
        "/console/livecodes/report/",
        "/console/livecodes/welcome/",
    ]
    too_wide = {}
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        if _overflow(page) > 0:
            too_wide[path] = _overflow(page)
            screenshot(f"{width}-{path.strip('/').replace('/', '-')}")
    assert too_wide == {}
    # The navigation is a row of whole words, not one character per line.
    page.goto(f"{live_server.url}/console/performance/")
    heights = page.eval_on_selector_all(".mainnav a", "links => links.map(a => a.getBoundingClientRect().height)")
    assert heights and max(heights) < (56 if width < 640 else 70)  # one line of text each
    screenshot(f"{width}-performance")
