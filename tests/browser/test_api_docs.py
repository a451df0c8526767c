"""An integrator reads the API docs in a browser: Swagger UI served from our own static files, in Chinese."""

import pytest
from django.conf import settings
from django.test import Client

from tests.browser.conftest import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_render_without_any_external_request(page, live_server, admin_staff, screenshot):
    client = Client()
    client.force_login(admin_staff.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/api/v1/docs/")
    wait_until(page, "document.querySelector('.swagger-ui .info .title')?.textContent.includes('导购侧边栏')")
    wait_until(page, "document.querySelectorAll('.opblock').length >= 7")
    info = page.locator(".swagger-ui .info").inner_text()
    assert "认证" in info and "幂等" in info and "版本规则" in info
    page.locator(".opblock-summary", has_text="/api/v1/events").first.click()
    wait_until(page, "document.body.innerText.includes('422')")
    screenshot("docs")

    external = [url for url in requested if not url.startswith(live_server.url) and not url.startswith("data:")]
    assert not external, external


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_login(page, live_server):
    page.goto(f"{live_server.url}/api/v1/docs/")
    assert "/admin/login/" in page.url
