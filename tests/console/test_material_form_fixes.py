"""Material form and list: grouped tag pickers, the script length limit."""

import pytest
from django.urls import reverse

from scrm.materials.models import Material
from scrm.org.models import Staff
from tests.factories import MaterialFactory, StaffFactory, TagFactory, TagGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def content_client(client):
    client.force_login(StaffFactory(role=Staff.Role.CONTENT, store=None).user)
    return client


@pytest.fixture
def tags():
    # Created out of order: the pickers must still list them group by group.
    skin = TagGroupFactory(name="肤质", order=2)
    budget = TagGroupFactory(name="预算", order=1)
    TagFactory(group=budget, name="高")
    TagFactory(group=skin, name="干皮")
    TagFactory(group=budget, name="低")
    TagFactory(group=skin, name="油皮")


def option_labels(html: str, name: str) -> list[str]:
    select = html.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    return [chunk.split(">", 1)[1].split("<", 1)[0] for chunk in select.split("<option")[1:]]


def test_material_form_tag_picker_shows_group_names_in_group_order(content_client, tags):
    html = content_client.get(reverse("console:material_create", args=["text"])).content.decode()
    assert option_labels(html, "audience_tags") == ["肤质 · 干皮", "肤质 · 油皮", "预算 · 高", "预算 · 低"]


def test_list_filter_tag_picker_shows_group_names(content_client, tags):
    html = content_client.get(reverse("console:materials")).content.decode()
    assert option_labels(html, "tag")[1:] == ["肤质 · 干皮", "肤质 · 油皮", "预算 · 高", "预算 · 低"]


def test_script_longer_than_wecom_sends_is_refused(content_client):
    url = reverse("console:material_create", args=["text"])
    response = content_client.post(url, {"title": "长话术", "content": "好" * 2001})
    assert response.status_code == 400
    assert "内容最多 2000 字" in response.content.decode()
    assert not Material.objects.exists()
    ok = content_client.post(url, {"title": "刚好", "content": "好" * 2000})
    assert ok.status_code == 302 and Material.objects.get().content == "好" * 2000


def test_miniprogram_form_shows_every_error_on_the_first_submit(content_client):
    url = reverse("console:material_create", args=["miniprogram"])
    response = content_client.post(url, {"title": "小程序", "mp_appid": "WX1234", "mp_page": "pages/index/index"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "该字段是必填项" in body  # the cover
    assert "小程序 appid 格式不正确" in body
    assert "小程序页面路径必须以 .html 结尾" in body
    assert not Material.objects.exists()


def test_validity_period_error_shows_with_the_other_errors(content_client):
    url = reverse("console:material_create", args=["text"])
    data = {"title": "", "content": "你好", "valid_from": "2026-11-02T10:00", "valid_until": "2026-11-01T10:00"}
    body = content_client.post(url, data).content.decode()
    assert "失效时间必须晚于生效时间" in body and "该字段是必填项" in body


def test_the_reselect_file_hint_shows_only_when_a_file_was_chosen(content_client):
    material = MaterialFactory(kind="link", title="旧链接", link_url="https://brand.example.com/a")
    url = reverse("console:material_edit", args=[material.pk])
    response = content_client.post(url, {"title": "", "link_url": "https://brand.example.com/a"})
    assert response.status_code == 400
    assert "重新选择" not in response.content.decode()
