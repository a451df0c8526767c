import datetime as dt

import pytest
from django.utils import timezone

from scrm.materials.models import Material
from tests.api.conftest import error_fields
from tests.factories import MaterialCategoryFactory, MaterialFactory, TagFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/materials/"


@pytest.fixture
def api(client, admin_staff):
    client.force_login(admin_staff.user)
    return client


def test_requires_admin(client, guide, content_staff):
    assert client.get(URL).status_code in (401, 403)
    client.force_login(guide.user)
    assert client.get(URL).status_code == 403


def test_basic_auth_for_admins(client, admin_staff):
    import base64

    admin_staff.user.set_password("api-pass-123")
    admin_staff.user.save()
    token = base64.b64encode(f"{admin_staff.user.username}:api-pass-123".encode()).decode()
    assert client.get(URL, HTTP_AUTHORIZATION=f"Basic {token}").status_code == 200
    bad = base64.b64encode(f"{admin_staff.user.username}:wrong".encode()).decode()
    assert client.get(URL, HTTP_AUTHORIZATION=f"Basic {bad}").status_code in (401, 403)


def test_read_only(api):
    material = MaterialFactory()
    assert api.post(URL, {"title": "x"}).status_code == 405
    assert api.delete(f"{URL}{material.pk}/").status_code == 405


def test_list_and_filters(api):
    parent = MaterialCategoryFactory(name="护肤")
    child = MaterialCategoryFactory(name="精华", parent=parent)
    MaterialFactory(title="精华话术", category=child, keywords="精华 抗老")
    MaterialFactory(title="链接卡片", kind="link", link_url="https://brand.example/", category=None)
    MaterialFactory(title="草稿", status="draft")
    MaterialFactory(title="过期", valid_until=timezone.now() - dt.timedelta(hours=1))

    def titles(**params):
        response = api.get(URL, params)
        assert response.status_code == 200, response.content
        return {item["title"] for item in response.json()["results"]}

    assert len(titles()) == 4
    assert titles(kind="link") == {"链接卡片"}
    assert titles(category=parent.pk) == {"精华话术"}
    assert titles(status="draft") == {"草稿"}
    assert titles(status="expired") == {"过期"}
    assert "过期" not in titles(status="sendable") and "草稿" not in titles(status="sendable")
    assert titles(q="抗老") == {"精华话术"}


def test_updated_since_for_incremental_sync(api):
    old = MaterialFactory(title="旧")
    Material.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))
    MaterialFactory(title="新")
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    response = api.get(URL, {"updated_since": since})
    assert [item["title"] for item in response.json()["results"]] == ["新"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "exe"}, "kind"),
        ({"status": "deleted"}, "status"),
        ({"category": "abc"}, "category"),
        ({"kind": ""}, "kind"),  # given, so it must be one of the kinds
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "lots"}, "page_size"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "2026-11-01T08:00:00"}, "updated_since"),  # no time zone
    ],
)
def test_bad_filters_are_400_with_chinese_message(api, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400
    message = error_fields(response)[field]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(message))


def test_cursor_pagination_walks_every_item_once(api):
    for i in range(7):
        MaterialFactory(title=f"素材{i}")
    seen, url = [], f"{URL}?page_size=3"
    while url:
        body = api.get(url).json()
        seen += [item["id"] for item in body["results"]]
        url = body["next"]
    assert len(seen) == 7 and len(set(seen)) == 7


def test_list_query_count_is_bounded(api, django_assert_max_num_queries):
    tag = TagFactory()
    for _ in range(10):
        MaterialFactory().audience_tags.add(tag)
    with django_assert_max_num_queries(8):
        assert len(api.get(URL).json()["results"]) == 10


def test_detail(api):
    tag = TagFactory(name="高净值")
    material = MaterialFactory(title="会员日", keywords="会员 积分", audience_stages=["repeat"])
    material.audience_tags.add(tag)
    body = api.get(f"{URL}{material.pk}/").json()
    assert body["title"] == "会员日" and body["kind"] == "text"
    assert body["keywords"] == ["会员", "积分"]
    assert body["audience_tags"] == [{"id": tag.pk, "name": "高净值", "wecom_tag_id": tag.wecom_tag_id}]
    assert body["category"]["name"] == material.category.name
    assert body["sendable"] is True and body["file_url"] is None
    assert api.get(f"{URL}999999/").status_code == 404


def test_openapi_schema_lists_material_endpoints(api):
    response = api.get("/api/v1/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/materials/" in text and "updated_since" in text
