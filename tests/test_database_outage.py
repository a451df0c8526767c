"""PostgreSQL unreachable: every caller gets a 503 it knows to retry, never the 500 page (#13).

`database_down` makes every query fail the way a stopped or restarting PostgreSQL does (the savepoints
of this test's own transaction still work, so the test can look at the database afterwards)."""

import contextlib
from urllib.parse import urlencode

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.urls import reverse

from scrm.api.services import api_key_create
from scrm.outage import server_error_or_outage
from scrm.wecom.models import CallbackInbox
from scrm.wecom.simulator.callbacks import callback_build, contact_event

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


REFUSED = OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


@contextlib.contextmanager
def database_down(error: Exception = REFUSED):
    real = CursorWrapper._execute

    def failing(self, sql, params, *ignored):
        if sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            return real(self, sql, params, *ignored)
        raise error

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CursorWrapper, "_execute", failing)
        yield


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False


@pytest.fixture
def ext(followed_customer, guide) -> str:
    return followed_customer.follow_relations.get(staff=guide).external_userid


def _assert_retry_later(response) -> None:
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0


def test_a_page_answers_a_short_chinese_503_while_the_database_is_down(guide_client, ext):
    with database_down():
        response = guide_client.get(reverse("sidebar:portrait", args=[ext]), headers={"Accept": "text/html"})
    _assert_retry_later(response)
    html = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert "系统正在恢复" in html and "稍后刷新重试" in html and 'name="viewport"' in html
    assert "Server Error" not in html and "系统开小差了" not in html
    # And once it is back, the same page works again without anything restarted.
    assert guide_client.get(reverse("sidebar:portrait", args=[ext])).status_code == 200


def test_a_closed_connection_is_an_outage_too(guide_client, ext):
    with database_down(InterfaceError("connection already closed")):
        response = guide_client.get(reverse("sidebar:timeline", args=[ext]), headers={"Accept": "text/html"})
    _assert_retry_later(response)
    assert "系统正在恢复" in response.content.decode()


def test_an_htmx_fragment_gets_json_the_sidebar_can_show(guide_client, ext):
    with database_down():
        response = guide_client.get(reverse("sidebar:timeline", args=[ext]), headers=HTMX)
    _assert_retry_later(response)
    body = response.json()
    assert body["code"] == "unavailable" and "稍后重试" in body["error"]


def test_the_api_answers_its_json_error_shape(client):
    _key, raw = api_key_create(name="小程序", scope="write")
    batch = {
        "source": "mp",
        "events": [{"id": "e1", "kind": "mp_product_view", "identities": {"phone": "13800000000"}}],
    }
    with database_down():
        response = client.post(
            "/api/v1/events", batch, content_type="application/json", headers={"Authorization": f"Api-Key {raw}"}
        )
    _assert_retry_later(response)
    body = response.json()
    assert body["code"] == "unavailable" and body["errors"] == [] and "稍后重试" in body["message"]


def test_a_wecom_callback_is_refused_so_wecom_retries_and_accepted_on_the_retry(client):
    query, body = callback_build(contact_event("del_follow_user", userid="g1", external_userid="wmOUT"))
    url = f"/wecom/callback/?{urlencode(query)}"
    with database_down():
        refused = client.post(url, data=body, content_type="text/xml")
    _assert_retry_later(refused)
    assert refused.content != b"success"
    assert not CallbackInbox.objects.filter(external_userid="wmOUT").exists()

    retried = client.post(url, data=body, content_type="text/xml")  # WeCom sends the same request again
    assert retried.status_code == 200 and retried.content == b"success"
    assert CallbackInbox.objects.filter(external_userid="wmOUT").count() == 1


def test_an_outage_met_outside_a_view_answers_503_and_other_errors_stay_500(rf):
    request = rf.get("/sidebar/", headers={"Accept": "text/html"})
    try:
        raise OperationalError("terminating connection due to administrator command")
    except OperationalError:
        response = server_error_or_outage(request)
    _assert_retry_later(response)
    assert "系统正在恢复" in response.content.decode()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        assert server_error_or_outage(request).status_code == 500


def test_a_console_page_is_a_503_too(manager):
    browser = Client(raise_request_exception=False)
    browser.force_login(manager.user)
    with database_down():
        response = browser.get(reverse("console:home"), headers={"Accept": "text/html"})
    _assert_retry_later(response)
