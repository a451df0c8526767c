"""The sidebar's material tab over HTTP: listing, search, favourites, prepare and report, who may see it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from scrm.customers.events import EventKind
from scrm.customers.models import Event, LifecycleStage
from scrm.materials.models import Material, MaterialFavourite, MaterialSend
from tests.factories import (
    CustomerFactory,
    CustomerTagFactory,
    FollowRelationFactory,
    MaterialCategoryFactory,
    MaterialFactory,
    MaterialSendFactory,
    StaffFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def page_url(ext: str) -> str:
    return reverse("sidebar:materials", args=[ext])


def prepare_url(ext: str, material: Material) -> str:
    return reverse("sidebar:material_prepare", args=[ext, material.pk])


def fav_url(ext: str, material: Material) -> str:
    return reverse("sidebar:material_favourite", args=[ext, material.pk])


def _prepare(client, ext, material):
    response = client.post(prepare_url(ext, material))
    assert response.status_code == 200, response.content.decode()
    return response.json()


def _report(client, data, **body):
    return client.post(data["report_url"], body, content_type="application/json")


@pytest.fixture
def remarked(relation):
    relation.remark = "王姐"
    relation.save()
    return relation


# --- the page --------------------------------------------------------------------------------


def test_tab_lists_sendable_materials_with_previews_for_this_customer(guide_client, ext, remarked):
    MaterialFactory(title="到店提醒", content="{客户称呼}您好，周末到店有礼")
    MaterialFactory(title="草稿话术", status=Material.Status.DRAFT)

    response = guide_client.get(page_url(ext))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="on" aria-current="page">素材' in html
    material = Material.objects.get(title="到店提醒")
    assert f'data-send-url="{prepare_url(ext, material)}"' in html
    assert f'hx-post="{fav_url(ext, material)}"' in html
    assert "到店提醒" in html and "王姐您好，周末到店有礼" in html
    assert "草稿话术" not in html
    assert "sidebar/materials.js" in html
    assert 'hx-trigger="input changed delay:250ms"' in html


def test_tab_loaded_into_the_shell_is_the_screen_only(guide_client, ext):
    MaterialFactory(title="到店提醒")
    response = guide_client.get(page_url(ext), headers={**HTMX, "HX-Target": "main"})

    html = response.content.decode()
    assert "到店提醒" in html and 'id="mat-results"' in html
    assert "<html" not in html


def test_search_as_you_type_swaps_only_the_results(guide_client, ext):
    MaterialFactory(title="精华上新", keywords="保湿 补水")
    MaterialFactory(title="口红试色")

    response = guide_client.get(page_url(ext) + "?q=补水&section=all", headers={**HTMX, "HX-Target": "mat-results"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="mat-results">')
    assert "精华上新" in html and "口红试色" not in html
    assert "“补水”的搜索结果" in html
    # Chips keep the query so switching sections stays within the search.
    assert "section=fav&amp;q=" in html


def test_without_js_the_plain_get_form_searches(guide_client, ext):
    MaterialFactory(title="精华上新")
    MaterialFactory(title="口红试色")

    html = guide_client.get(page_url(ext), {"q": "口红", "section": "all"}).content.decode()

    assert "<html" in html and "口红试色" in html and "精华上新" not in html
    assert 'method="get"' in html


def test_category_chips_filter_and_show_children(guide_client, ext):
    skin = MaterialCategoryFactory(name="护肤")
    serum = MaterialCategoryFactory(name="精华", parent=skin)
    MaterialFactory(title="精华上新", category=serum)
    MaterialFactory(title="口红试色", category=MaterialCategoryFactory(name="彩妆"))

    html = guide_client.get(page_url(ext), {"cat": skin.pk, "section": "all"}).content.decode()

    assert "精华上新" in html and "口红试色" not in html
    assert 'class="chips mat-cats sub"' in html and ">精华</a>" in html


@pytest.mark.parametrize(
    "query", ["?cat=abc", "?offset=-5", "?section=nope", "?offset=99999999999", "?cat=0&q=" + "长" * 300, "?q=a%00b"]
)
def test_nonsense_parameters_fall_back_instead_of_failing(guide_client, ext, query):
    MaterialFactory(title="到店提醒")
    response = guide_client.get(page_url(ext) + query)
    assert response.status_code == 200
    if query == "?section=nope":
        html = response.content.decode()
        assert 'aria-current="true">推荐</a>' in html and "到店提醒" in html


def test_more_materials_load_page_by_page(guide_client, ext):
    for i in range(23):
        MaterialFactory(title=f"素材{i:02d}", send_count=i)

    first = guide_client.get(page_url(ext)).content.decode()
    assert "素材22" in first and "素材02" not in first
    more = guide_client.get(page_url(ext) + "?offset=20", headers={**HTMX, "HX-Target": "mat-more-20"})
    html = more.content.decode()
    assert 'id="mat-more-20"' in first
    assert "素材02" in html and "素材00" in html and "素材22" not in html
    assert "mat-results" not in html


def test_favourite_toggle_swaps_the_star_and_shows_in_the_favourites(guide_client, ext, guide):
    material = MaterialFactory(title="常用开场白")

    response = guide_client.post(fav_url(ext, material), {"on": "1"}, headers=HTMX)

    assert response.status_code == 200
    swapped = response.content.decode()
    assert 'aria-pressed="true"' in swapped and f'hx-post="{fav_url(ext, material)}"' in swapped
    assert MaterialFavourite.objects.filter(staff=guide, material=material).exists()
    assert "常用开场白" in guide_client.get(page_url(ext) + "?section=fav").content.decode()

    response = guide_client.post(fav_url(ext, material), {"on": "0", "next": page_url(ext) + "?section=fav"})
    assert response.status_code == 302 and response["Location"] == page_url(ext) + "?section=fav"
    assert not MaterialFavourite.objects.exists()


def test_favourite_without_js_never_redirects_off_site(guide_client, ext):
    material = MaterialFactory()
    response = guide_client.post(fav_url(ext, material), {"on": "1", "next": "https://evil.example.com/"})
    assert response["Location"] == page_url(ext)


def test_recent_section_shows_what_this_guide_sent(guide_client, ext, guide, followed_customer):
    MaterialSendFactory(material=MaterialFactory(title="上次发的"), staff=guide, customer=followed_customer)
    MaterialFactory(title="没发过")

    html = guide_client.get(page_url(ext) + "?section=recent").content.decode()

    assert "上次发的" in html and "没发过" not in html


def test_tab_query_count_stays_constant_with_many_materials_and_sends(
    guide_client, ext, guide, followed_customer, django_assert_max_num_queries
):
    category = MaterialCategoryFactory()
    materials = [MaterialFactory(category=category, title=f"话术{i}") for i in range(60)]
    for i, material in enumerate(materials):
        material.audience_tags.set([])
        MaterialSendFactory(material=material, staff=guide, customer=followed_customer)
        if i % 3 == 0:
            MaterialFavourite.objects.create(staff=guide, material=material)
    for section in ("rec", "all", "fav", "recent"):
        with django_assert_max_num_queries(12):
            response = guide_client.get(page_url(ext) + f"?section={section}&cat={category.pk}")
        assert response.status_code == 200
        assert response.content.decode().count('class="mat mat-') == 20


def test_recommendations_for_a_tagged_customer_take_no_more_queries_with_more_data(
    guide_client, ext, guide, followed_customer
):
    dry, sensitive = TagFactory(name="干皮"), TagFactory(name="敏感肌")
    for tag in (dry, sensitive):
        CustomerTagFactory(customer=followed_customer, tag=tag)
    followed_customer.lifecycle_stage = LifecycleStage.REPEAT
    followed_customer.save()

    def add_materials(n):
        for i in range(n):
            material = MaterialFactory(send_count=i, audience_stages=["repeat"] if i % 3 else [])
            material.audience_tags.set([dry, sensitive][: i % 3])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = guide_client.get(page_url(ext))
        assert response.status_code == 200
        return len(captured), response.content.decode()

    add_materials(3)
    few, _ = queries()
    add_materials(60)
    many, html = queries()

    # Fewer when the tag matches fill the page: the stage-only and popular parts are not read at all.
    assert many <= few <= 9
    assert html.count('class="mat mat-') == 20
    assert "适合：干皮 · 敏感肌 · 复购客" in html


# --- who may see it --------------------------------------------------------------------------


def test_another_guides_customer_or_an_unknown_id_is_404_everywhere(staff_client, guide, store):
    other = FollowRelationFactory(staff=StaffFactory(store=store), customer=CustomerFactory(store=store))
    material = MaterialFactory()
    client = staff_client(guide)
    for ext in (other.external_userid, "wmUNKNOWN"):
        assert client.get(page_url(ext)).status_code == 404
        assert client.post(prepare_url(ext, material)).status_code == 404
        assert client.post(fav_url(ext, material), {"on": "1"}).status_code == 404
        report = reverse("sidebar:material_send_report", args=[ext, "1-0000000000000000-00000000000000000000"])
        assert client.post(report, {"status": "sent"}).status_code == 404
    assert not MaterialSend.objects.exists() and not MaterialFavourite.objects.exists()


def test_content_staff_get_404_and_guides_get_403_in_the_console(staff_client, content_staff, guide, ext):
    material = MaterialFactory()
    assert staff_client(content_staff).get(page_url(ext)).status_code == 404

    client = staff_client(guide)
    assert client.get(reverse("console:material_edit", args=[material.pk])).status_code == 403
    assert client.get(reverse("console:material_create", args=["text"])).status_code == 403


def test_signed_out_is_sent_to_sign_in(client, ext):
    response = client.get(page_url(ext))
    assert response.status_code == 302 and "/sidebar/" in response["Location"]


# --- prepare and report ----------------------------------------------------------------------


def test_prepare_then_sent_report_records_once_and_adds_a_timeline_event(guide_client, ext, remarked, guide):
    material = MaterialFactory(title="到店提醒", content="{客户称呼}，周末见")

    data = _prepare(guide_client, ext, material)

    assert data["msg"] == {"msgtype": "text", "enterChat": True, "text": {"content": "王姐，周末见"}}
    assert data["confirm"] is False
    first = _report(guide_client, data, status="sent", errMsg="")
    again = _report(guide_client, data, status="sent", errMsg="")
    assert first.status_code == again.status_code == 200
    assert first.json() == {"status": "sent", "message": "已发送", "detail": "", "retry": False, "copy": False}
    assert MaterialSend.objects.filter(staff=guide, status="sent").count() == 1
    assert Event.objects.filter(kind=EventKind.MATERIAL_SENT).count() == 1
    material.refresh_from_db()
    assert material.send_count == 1
    timeline = guide_client.get(reverse("sidebar:timeline", args=[ext]) + "?group=material").content.decode()
    assert "发送了素材「到店提醒」" in timeline


def test_failed_text_send_explains_why_and_offers_copy(guide_client, ext):
    data = _prepare(guide_client, ext, MaterialFactory())

    answer = _report(guide_client, data, status="failed", errMsg="sendChatMessage:fail no permission").json()

    assert answer == {
        "status": "failed",
        "message": "企业微信没有授权发送，请联系管理员检查应用权限。",
        "detail": "sendChatMessage:fail no permission",
        "retry": False,
        "copy": True,
    }
    assert MaterialSend.objects.get().error == "sendChatMessage:fail no permission"


def test_cancelled_send_is_recorded_as_cancelled(guide_client, ext):
    data = _prepare(guide_client, ext, MaterialFactory())
    answer = _report(guide_client, data, status="cancelled", errMsg="sendChatMessage:cancel").json()
    assert answer["message"] == "已取消"
    # The guide chose to cancel: nothing to work around, so no copy offer.
    assert answer["copy"] is False
    assert MaterialSend.objects.get().status == "cancelled"
    assert not Event.objects.filter(kind=EventKind.MATERIAL_SENT).exists()


@pytest.mark.parametrize("err_msg", ["sendChatMessage:fail sdk not ready", "sdk not ready"])
def test_a_send_from_a_page_without_wecom_is_not_recorded(guide_client, ext, err_msg):
    data = _prepare(guide_client, ext, MaterialFactory())

    response = _report(guide_client, data, status="failed", errMsg=err_msg)

    assert response.status_code == 409
    assert "请在企业微信的聊天侧边栏中发送" in response.json()["error"]
    assert not MaterialSend.objects.exists()


def test_a_real_wecom_failure_is_still_recorded(guide_client, ext):
    data = _prepare(guide_client, ext, MaterialFactory())
    _report(guide_client, data, status="failed", errMsg="sendChatMessage:fail config not ready")
    assert MaterialSend.objects.get().status == "failed"


def test_long_scripts_come_back_with_confirm(guide_client, ext):
    data = _prepare(guide_client, ext, MaterialFactory(content="这款面霜很适合秋冬使用。" * 15))
    assert data["confirm"] is True


def test_form_encoded_reports_are_accepted_too(guide_client, ext):
    data = _prepare(guide_client, ext, MaterialFactory())
    response = guide_client.post(data["report_url"], {"status": "sent"})
    assert response.status_code == 200 and MaterialSend.objects.get().status == "sent"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ('{"status": "delivered"}', "application/json", "发送结果不正确。"),
        ("not json", "application/json", "请求格式不正确。"),
        ('["sent"]', "application/json", "请求格式不正确。"),
    ],
)
def test_bad_reports_are_400_with_a_chinese_message(guide_client, ext, body, content_type, message):
    data = _prepare(guide_client, ext, MaterialFactory())
    response = guide_client.post(data["report_url"], body, content_type=content_type)
    assert response.status_code == 400
    assert response.json() == {"error": message}
    assert not MaterialSend.objects.exclude(status="pending").exists()


def test_a_forged_request_id_is_refused(guide_client, ext):
    url = reverse("sidebar:material_send_report", args=[ext, "1-0000000000000000-00000000000000000000"])
    response = guide_client.post(url, {"status": "sent"})
    assert response.status_code == 400 and "无效" in response.json()["error"]


def test_prepare_of_a_missing_or_withdrawn_material_is_explained(guide_client, ext):
    withdrawn = MaterialFactory(status=Material.Status.UNPUBLISHED)
    response = guide_client.post(prepare_url(ext, withdrawn))
    assert response.status_code == 409 and "已下架" in response.json()["error"]

    missing = reverse("sidebar:material_prepare", args=[ext, 999999])
    response = guide_client.post(missing)
    assert response.status_code == 404 and response.json()["error"] == "素材不存在或已被删除。"


def test_prepare_and_report_need_post(guide_client, ext):
    material = MaterialFactory()
    assert guide_client.get(prepare_url(ext, material)).status_code == 405


@pytest.mark.parametrize("err_msg", ["sendChatMessage:fail \x00bad", "sendChatMessage:fail \udfff"])
def test_an_unstorable_err_msg_is_recorded_cleaned_as_json(guide_client, ext, err_msg):
    data = _prepare(guide_client, ext, MaterialFactory())

    response = _report(guide_client, data, status="failed", errMsg=err_msg)

    assert response.status_code == 200 and response.json()["status"] == "failed"
    stored = MaterialSend.objects.get().error
    assert stored.startswith("sendChatMessage:fail ") and "\x00" not in stored and stored.isprintable()
