"""Error pages in production: Chinese, short enough for the sidebar, with a way back; JSON where JS reads JSON."""

import pytest
from django.test import Client
from django.urls import reverse

from scrm.org.models import Staff
from tests.factories import MaterialFactory, StaffFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
ENGLISH = ("Not Found", "Server Error", "Forbidden", "requested resource")


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False


@pytest.fixture
def ext(followed_customer, guide) -> str:
    return followed_customer.follow_relations.get(staff=guide).external_userid


def _assert_chinese_page(response, status: int, title: str) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert title in html
    for word in ENGLISH:
        assert word not in html
    return html


def test_unknown_page_is_a_chinese_404_with_a_way_back(client):
    html = _assert_chinese_page(client.get("/sidebar/no/such/page/"), 404, "找不到要查看的内容")
    assert f'href="{reverse("sidebar:home")}"' in html


def test_console_404_leads_back_to_the_console(manager, client):
    client.force_login(manager.user)
    html = _assert_chinese_page(client.get("/console/materials/999999/"), 404, "找不到要查看的内容")
    assert f'href="{reverse("console:home")}"' in html


def test_someone_elses_customer_in_the_sidebar_is_a_short_chinese_page_for_main(guide_client):
    """bootstrap.js swaps 4xx bodies into #main: the guide reads Chinese there, not 「Not Found」."""
    response = guide_client.get(reverse("sidebar:portrait", args=["wmNotMine"]), headers=HTMX)
    html = _assert_chinese_page(response, 404, "找不到要查看的内容")
    assert "没有查看权限" in html
    assert 'name="viewport"' in html  # phone-width in the sidebar


def test_server_error_is_a_chinese_500(guide_client, ext, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("sidebar.views.selectors.customer_portrait", broken)
    guide_client.raise_request_exception = False

    html = _assert_chinese_page(guide_client.get(reverse("sidebar:portrait", args=[ext])), 500, "系统开小差了")
    assert "刷新重试" in html and "boom" not in html


def test_wrong_role_sees_a_403_page_with_sign_out_not_bare_text(client, guide):
    client.force_login(guide.user)

    html = _assert_chinese_page(client.get(reverse("console:performance")), 403, "没有权限访问此页面")
    assert f'action="{reverse("console:logout")}"' in html and "退出并换个账号登录" in html
    assert "csrfmiddlewaretoken" in html  # the sign-out form actually posts
    assert f'href="{reverse("console:home")}"' in html


def test_content_staff_signs_out_from_the_403_page(client):
    content = StaffFactory(role=Staff.Role.CONTENT)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(content.user)
    html = browser.get(reverse("console:performance")).content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]

    response = browser.post(reverse("console:logout"), {"csrfmiddlewaretoken": token})

    assert response.status_code == 302 and response["Location"] == reverse("console:login")


# --- the material tab's JSON endpoints --------------------------------------------------------------


def test_prepare_for_an_unknown_customer_answers_json_in_chinese(guide_client):
    material = MaterialFactory()

    response = guide_client.post(reverse("sidebar:material_prepare", args=["wmNotMine", material.pk]))

    assert response.status_code == 404
    assert response.json() == {"error": "客户不存在、已转接给其他导购，或你无权查看"}


def test_send_report_for_an_unknown_customer_answers_json_in_chinese(guide_client):
    url = reverse("sidebar:material_send_report", args=["wmNotMine", "1-0123456789abcdef-0123456789abcdef0123"])

    response = guide_client.post(url, {"status": "sent"}, content_type="application/json")

    assert response.status_code == 404
    assert response.json() == {"error": "客户不存在、已转接给其他导购，或你无权查看"}


def test_favourite_of_a_deleted_material_answers_json_in_chinese(guide_client, ext):
    response = guide_client.post(reverse("sidebar:material_favourite", args=[ext, 999999]), {"on": "1"}, headers=HTMX)

    assert response.status_code == 404
    assert response.json() == {"error": "素材不存在或已被删除。"}


def test_favourite_for_an_unknown_customer_answers_json_in_chinese(guide_client):
    material = MaterialFactory()

    response = guide_client.post(reverse("sidebar:material_favourite", args=["wmNotMine", material.pk]), {"on": "1"})

    assert response.status_code == 404
    assert response.json() == {"error": "客户不存在、已转接给其他导购，或你无权查看"}


def test_a_stale_csrf_token_gets_the_chinese_page_with_a_way_back(settings):
    settings.DEBUG = False
    staff = StaffFactory(role=Staff.Role.CONTENT)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff.user)
    response = client.post("/console/materials/categories/", {"name": "护肤"})
    body = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期" in body and "返回后台首页" in body and "DEBUG" not in body


def test_uploads_are_served_even_without_debug(client, settings, tmp_path):
    settings.DEBUG = False
    (settings.MEDIA_ROOT / "materials").mkdir(parents=True)
    (settings.MEDIA_ROOT / "materials" / "a.txt").write_text("ok")
    assert client.get("/media/materials/a.txt").status_code == 200
