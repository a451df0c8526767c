import datetime as dt
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from scrm.console.permissions import CONSOLE_ROLES
from scrm.materials.models import Material, MaterialCategory
from tests.factories import (
    CustomerFactory,
    MaterialCategoryFactory,
    MaterialFactory,
    MaterialSendFactory,
    OrderFactory,
    StaffFactory,
)
from tests.materials import samples

pytestmark = pytest.mark.django_db


@pytest.fixture
def content_client(client, content_staff):
    client.force_login(content_staff.user)
    return client


def media_count(settings) -> int:
    root = settings.MEDIA_ROOT
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


# --- sign-in and roles ---------------------------------------------------------------------


def test_anonymous_is_sent_to_console_login(client):
    response = client.get(reverse("console:materials"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))


def test_content_staff_signs_in_with_password_and_lands_on_materials(client, content_staff):
    content_staff.user.set_password("s3cret-pass")
    content_staff.user.save()
    response = client.post(
        reverse("console:login"), {"username": content_staff.user.username, "password": "s3cret-pass"}
    )
    assert response.status_code == 302
    response = client.get(response["Location"], follow=True)
    assert response.redirect_chain[-1][0] == reverse("console:materials")
    assert "素材库" in response.content.decode()


def test_guide_cannot_sign_in_to_console(client, guide):
    guide.user.set_password("s3cret-pass")
    guide.user.save()
    response = client.post(reverse("console:login"), {"username": guide.user.username, "password": "s3cret-pass"})
    assert response.status_code == 200
    assert "导购请在企业微信聊天侧边栏中使用" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_wrong_password_shows_chinese_error(client, content_staff):
    response = client.post(reverse("console:login"), {"username": content_staff.user.username, "password": "nope"})
    assert "用户名或密码不正确" in response.content.decode()


def _console_routes():
    """(name, view) of every console page, including ones other sections add later."""
    resolver = get_resolver().namespace_dict["console"][1]
    routes = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLPattern):
            routes.append((pattern.name, pattern))
        elif isinstance(pattern, URLResolver):  # sections with their own URLconf (performance/)
            routes.extend((p.name, p) for p in pattern.url_patterns if isinstance(p, URLPattern))
    return routes


def _url(pattern: URLPattern) -> str:
    kwargs = {
        name: (1 if conv.__class__.__name__ == "IntConverter" else "text")
        for name, conv in pattern.pattern.converters.items()
    }
    return reverse(f"console:{pattern.name}", kwargs=kwargs)


@pytest.mark.parametrize("name", [name for name, _ in _console_routes() if name not in ("login", "logout")])
def test_guide_gets_403_on_every_console_page(client, guide, name):
    client.force_login(guide.user)
    pattern = dict(_console_routes())[name]
    assert client.get(_url(pattern)).status_code in (403, 405)


def test_content_staff_gets_403_or_404_outside_materials(content_client):
    # Their landing page is the material library, not the managers' overview.
    response = content_client.get(reverse("console:home"))
    assert response.status_code == 302 and response["Location"] == reverse("console:materials")
    # Every console page not meant for content staff (other sections add theirs later) refuses them.
    for name, pattern in _console_routes():
        roles = getattr(pattern.callback, "console_roles", CONSOLE_ROLES)
        if name in ("login", "logout", "home") or "content" in roles:
            continue
        assert content_client.get(_url(pattern)).status_code in (403, 404, 405), name
    # So do the REST API and Django admin.
    assert content_client.get("/api/v1/materials/").status_code == 403
    assert content_client.get("/admin/").status_code == 302


def test_manager_sees_overview_and_materials(client, manager):
    client.force_login(manager.user)
    MaterialFactory(title="店庆海报")
    response = client.get(reverse("console:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "素材总数" in body and reverse("console:materials") in body
    assert reverse("console:performance") in body  # managers' nav carries their own sections too
    assert client.get(reverse("console:materials")).status_code == 200


def test_content_staff_nav_shows_only_material_sections(content_client):
    body = content_client.get(reverse("console:materials")).content.decode()
    assert reverse("console:material_categories") in body
    assert "概览" not in body and reverse("console:performance") not in body


# --- create / edit / publish -----------------------------------------------------------------


def test_create_text_script_then_publish(content_client, content_staff):
    category = MaterialCategoryFactory(name="开场白")
    response = content_client.post(
        reverse("console:material_create", args=["text"]),
        {
            "title": "新客欢迎语",
            "content": "{客户称呼}您好，我是{导购姓名}",
            "category": category.pk,
            "keywords": " 欢迎  新客 ",
        },
    )
    material = Material.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "console:material_detail", args=[material.pk]
    )
    assert (material.status, material.created_by, material.keywords) == ("draft", content_staff, "欢迎 新客")
    content_client.post(reverse("console:material_publish", args=[material.pk]))
    material.refresh_from_db()
    assert material.status == "published" and material.is_sendable()
    content_client.post(reverse("console:material_unpublish", args=[material.pk]))
    material.refresh_from_db()
    assert material.status == "unpublished"


def test_publish_needs_post(content_client):
    material = MaterialFactory(status="draft")
    assert content_client.get(reverse("console:material_publish", args=[material.pk])).status_code == 405
    material.refresh_from_db()
    assert material.status == "draft"


def test_upload_image_material_creates_file_and_thumbnail(content_client, settings):
    response = content_client.post(
        reverse("console:material_create", args=["image"]),
        {"title": "双十一主图", "file": samples.upload("main.png", samples.png(900, 900))},
    )
    assert response.status_code == 302
    material = Material.objects.get()
    assert material.file and material.thumbnail and material.file_mime == "image/jpeg"
    detail = content_client.get(response["Location"]).content.decode()
    assert material.thumbnail.url in detail


@pytest.mark.parametrize(
    ("kind", "name", "content", "message"),
    [
        ("image", "photo.jpg", samples.exe(), "可执行程序"),
        ("image", "cute.png", samples.svg_with_script(), "SVG"),
        ("file", "price.pdf", samples.html(), "HTML"),
        ("image", "half.jpg", samples.truncated(samples.jpeg(300, 300)), "损坏"),
        ("image", "bomb.png", samples.png_with_dimensions(30000, 30000), "尺寸过大"),
        ("video", "big.mp4", samples.mp4() + b"\x00" * (10 * samples.MB), "不能超过 10 MB"),
    ],
)
def test_bad_upload_gets_form_error_and_nothing_saved(content_client, settings, kind, name, content, message):
    response = content_client.post(
        reverse("console:material_create", args=[kind]), {"title": "坏文件", "file": samples.upload(name, content)}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Material.objects.count() == 0
    assert media_count(settings) == 0


def test_valid_pdf_and_mp4_are_accepted(content_client):
    for kind, upload in [
        ("file", samples.upload("目录.pdf", samples.pdf())),
        ("video", samples.upload("v.mp4", samples.mp4())),
    ]:
        response = content_client.post(reverse("console:material_create", args=[kind]), {"title": kind, "file": upload})
        assert response.status_code == 302, response.content.decode()
    assert set(Material.objects.values_list("file_mime", flat=True)) == {"application/pdf", "video/mp4"}


def test_miniprogram_form_rejects_page_without_html(content_client):
    response = content_client.post(
        reverse("console:material_create", args=["miniprogram"]),
        {
            "title": "会员中心",
            "mp_appid": "wx1234567890abcdef",
            "mp_page": "pages/member/index",
            "cover": samples.upload("c.png", samples.png()),
        },
    )
    assert response.status_code == 400
    assert "必须以 .html 结尾" in response.content.decode()
    assert Material.objects.count() == 0


def test_link_card_created_with_cover(content_client):
    response = content_client.post(
        reverse("console:material_create", args=["link"]),
        {
            "title": "秋冬新品",
            "content": "限时 8 折",
            "link_url": "https://brand.example/new",
            "cover": samples.upload("c.jpg", samples.jpeg()),
        },
    )
    assert response.status_code == 302
    material = Material.objects.get()
    assert material.cover and material.link_url == "https://brand.example/new"


def test_edit_keeps_file_when_none_uploaded(content_client):
    content_client.post(
        reverse("console:material_create", args=["image"]),
        {"title": "旧标题", "file": samples.upload("a.png", samples.png())},
    )
    material = Material.objects.get()
    old_file = material.file.name
    response = content_client.post(reverse("console:material_edit", args=[material.pk]), {"title": "新标题"})
    assert response.status_code == 302
    material.refresh_from_db()
    assert material.title == "新标题" and material.file.name == old_file


def test_unknown_kind_is_404(content_client):
    assert content_client.get("/console/materials/new/exe/").status_code == 404


# --- list, search, detail statistics ----------------------------------------------------------


def test_list_search_filter_and_htmx_partial(content_client):
    MaterialFactory(title="会员日话术", content="双倍积分")
    MaterialFactory(title="新品图", kind="image", status="draft")
    body = content_client.get(reverse("console:materials"), {"q": "积分"}).content.decode()
    assert "会员日话术" in body and "新品图" not in body
    partial = content_client.get(reverse("console:materials"), {"status": "draft"}, headers={"HX-Request": "true"})
    text = partial.content.decode()
    assert "新品图" in text and "会员日话术" not in text and "<html" not in text


def test_list_ignores_nonsense_filters(content_client):
    MaterialFactory(title="会员日话术")
    response = content_client.get(reverse("console:materials"), {"kind": "bogus", "category": "x", "page": "999"})
    assert response.status_code == 200


def test_one_bad_filter_leaves_the_others_working(content_client):
    MaterialFactory(title="会员日话术")
    MaterialFactory(title="新品图", kind="image", status="draft")
    body = content_client.get(reverse("console:materials"), {"q": "新品\x00", "status": "draft"}).content.decode()
    assert "新品图" in body and "会员日话术" not in body
    body = content_client.get(reverse("console:materials"), {"kind": "bogus", "status": "draft"}).content.decode()
    assert "新品图" in body and "会员日话术" not in body


def test_list_query_count_does_not_grow(content_client, django_assert_max_num_queries):
    for _ in range(3):
        MaterialFactory()
    with django_assert_max_num_queries(12):
        content_client.get(reverse("console:materials"))
    for _ in range(20):
        MaterialFactory()
    with django_assert_max_num_queries(12):
        content_client.get(reverse("console:materials"))


def test_detail_shows_hand_computed_statistics_and_chart(content_client):
    material = MaterialFactory(title="精华液试用")
    guide = StaffFactory()
    customer = CustomerFactory()
    sent = timezone.now() - dt.timedelta(days=3)
    MaterialSendFactory(material=material, staff=guide, customer=customer, sent_at=sent)
    MaterialSendFactory(material=material, staff=guide, customer=CustomerFactory(), sent_at=sent)
    OrderFactory(customer=customer, paid_at=sent + dt.timedelta(days=1), amount=Decimal("1299.00"))
    body = content_client.get(reverse("console:material_detail", args=[material.pk])).content.decode()
    assert 'data-stat="sends">2<' in body
    assert 'data-stat="customers">2<' in body
    assert 'data-stat="guides">1<' in body
    assert 'data-stat="roi_orders">1<' in body
    assert "¥1299.00" in body
    assert body.count("<svg") == 2 and "<rect" in body


def test_detail_warns_about_unknown_placeholders(content_client):
    material = MaterialFactory(content="{客户称呼}您好，券码 {券码}")
    body = content_client.get(reverse("console:material_detail", args=[material.pk])).content.decode()
    assert "无法自动填写" in body and "{券码}" in body


# --- bulk upload and categories -----------------------------------------------------------------


def _bulk_post_without_script(client, data, capture) -> str:
    """The form posted without the page's script: the files are staged, a worker checks them (run here
    on commit), and the status page shows each result."""
    with capture(execute=True):
        posted = client.post(reverse("console:material_bulk_upload"), data)
    assert posted.status_code == 302 and "/console/materials/bulk/" in posted["Location"]
    return client.get(posted["Location"]).content.decode()


def test_bulk_upload_reports_each_file(content_client, settings, django_capture_on_commit_callbacks):
    category = MaterialCategoryFactory()
    body = _bulk_post_without_script(
        content_client,
        {
            "category": category.pk,
            "files": [
                samples.upload("一.png", samples.png()),
                samples.upload("二.jpg", samples.exe()),
                samples.upload("三.webp", samples.webp()),
            ],
        },
        django_capture_on_commit_callbacks,
    )
    assert "可执行程序" in body and "完成：成功 2 个，重复未保存 0 个，失败 1 个" in body
    assert sorted(Material.objects.values_list("title", flat=True)) == ["一", "三"]
    assert set(Material.objects.values_list("category", flat=True)) == {category.pk}
    assert media_count(settings) == 4  # two images, two thumbnails


def test_bulk_upload_json_for_the_script(content_client):
    ok = content_client.post(
        reverse("console:material_bulk_upload"),
        {"files": [samples.upload("a.png", samples.png())]},
        headers={"Accept": "application/json"},
    )
    assert ok.status_code == 200 and ok.json()["results"][0]["ok"] is True
    bad = content_client.post(
        reverse("console:material_bulk_upload"),
        {"files": [samples.upload("b.png", samples.svg_with_script())]},
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 400 and "SVG" in bad.json()["results"][0]["error"]


def test_categories_create_nested_and_rename(content_client):
    content_client.post(reverse("console:material_categories"), {"name": "护肤"})
    parent = MaterialCategory.objects.get(name="护肤")
    content_client.post(reverse("console:material_categories"), {"name": "精华", "parent": parent.pk})
    child = MaterialCategory.objects.get(name="精华")
    assert child.parent == parent
    duplicate = content_client.post(reverse("console:material_categories"), {"name": "精华", "parent": parent.pk})
    assert duplicate.status_code == 400 and "已有同名分类" in duplicate.content.decode()
    content_client.post(reverse("console:material_category_rename", args=[child.pk]), {"name": "精华液"})
    child.refresh_from_db()
    assert child.name == "精华液"
    page = content_client.get(reverse("console:material_categories")).content.decode()
    assert "精华液" in page


def test_categories_move_with_their_children_but_never_under_themselves(content_client):
    skin = MaterialCategoryFactory(name="护肤")
    serum = MaterialCategoryFactory(name="精华", parent=skin)
    drops = MaterialCategoryFactory(name="安瓶", parent=serum)
    page = content_client.get(reverse("console:material_categories")).content.decode()
    assert "移动分类" in page
    assert page.count('id="id_parent"') == 1 and 'id="id_move-parent"' in page  # labels point at one field each

    loop = content_client.post(
        reverse("console:material_category_move"), {"move-category": skin.pk, "move-parent": drops.pk}, follow=True
    )
    assert "不能把分类移动到它自己或它的子分类下面" in loop.content.decode()
    skin.refresh_from_db()
    assert skin.parent is None

    moved = content_client.post(
        reverse("console:material_category_move"), {"move-category": serum.pk, "move-parent": ""}, follow=True
    )
    assert "分类已移动" in moved.content.decode()
    serum.refresh_from_db()
    drops.refresh_from_db()
    assert serum.parent is None and drops.parent == serum

    missing = content_client.post(reverse("console:material_category_move"), {"move-parent": skin.pk}, follow=True)
    assert missing.status_code == 200 and "请选择要移动的分类" in missing.content.decode()
    gone = content_client.post(reverse("console:material_category_move"), {"move-category": 999999}, follow=True)
    assert "这个分类已不存在" in gone.content.decode()


def test_bulk_upload_retry_does_not_duplicate(content_client):
    url = reverse("console:material_bulk_upload")
    image = samples.png(120, 80)
    first = content_client.post(
        url, {"files": [samples.upload("a.png", image)]}, headers={"Accept": "application/json"}
    )
    again = content_client.post(
        url, {"files": [samples.upload("a.png", image)]}, headers={"Accept": "application/json"}
    )
    assert first.json()["results"][0]["created"] is True
    result = again.json()["results"][0]
    assert result["ok"] is True and result["created"] is False and "未重复保存" in result["title"]
    assert result["id"] == first.json()["results"][0]["id"]
    assert Material.objects.count() == 1


def test_category_tree_counts_include_sub_categories(content_client):
    photos = MaterialCategoryFactory(name="产品图")
    lipstick = MaterialCategoryFactory(name="口红", parent=photos)
    matte = MaterialCategoryFactory(name="哑光", parent=lipstick)
    MaterialFactory(category=lipstick)
    MaterialFactory(category=matte)
    MaterialFactory(category=matte)
    page = content_client.get(reverse("console:material_categories")).content.decode()

    def count_of(name):
        row = page.split(f">{name}</a>", 1)[1].split("</span>", 1)[0]
        return row.split('data-count="', 1)[1].split('"', 1)[0], row

    assert count_of("产品图")[0] == "3" and "3 个素材" in count_of("产品图")[1]
    assert count_of("口红")[0] == "3" and "本级 1 个" in count_of("口红")[1]
    assert count_of("哑光")[0] == "2" and "本级" not in count_of("哑光")[1]
    # The list behind the link shows as many.
    listed = content_client.get(reverse("console:materials"), {"category": photos.pk})
    assert listed.context["page"].paginator.count == 3


def test_bulk_upload_counts_duplicates_apart_from_saved_images(content_client, django_capture_on_commit_callbacks):
    image = samples.png()
    body = _bulk_post_without_script(
        content_client,
        {
            "files": [
                samples.upload("一.png", image),
                samples.upload("二.png", image),
                samples.upload("三.webp", samples.webp()),
            ]
        },
        django_capture_on_commit_callbacks,
    )
    assert "完成：成功 2 个，重复未保存 1 个，失败 0 个" in body
    assert Material.objects.count() == 2


def test_bulk_upload_page_offers_sign_in_when_the_session_is_gone(content_client, client):
    page = content_client.get(reverse("console:material_bulk_upload")).content.decode()
    login = reverse("console:login")
    assert f'data-login-url="{login}?next=' in page and 'data-label-login="重新登录"' in page
    content_client.logout()
    answer = content_client.post(
        reverse("console:material_bulk_upload"),
        {"files": [samples.upload("a.png", samples.png())]},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 401 and answer.json()["login"] is True and "登录已过期" in answer.json()["error"]


def test_list_history_restore_gets_the_whole_page_with_the_urls_filters(content_client):
    MaterialFactory(title="新品图文", kind="link", link_url="https://brand.example/")
    url = reverse("console:materials")
    page = content_client.get(url).content.decode()
    assert 'hx-history="false"' in page  # no stale snapshot: Back asks the server
    restored = content_client.get(
        url, {"kind": "link"}, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    ).content.decode()
    assert "<html" in restored and 'class="filters"' in restored
    assert '<option value="link" selected>' in restored


def test_a_bulk_upload_in_progress_polls_until_the_worker_is_done(content_client, django_capture_on_commit_callbacks):
    posted = content_client.post(
        reverse("console:material_bulk_upload"), {"files": [samples.upload("一.png", samples.png())]}
    )
    status_url = posted["Location"]
    waiting = content_client.get(status_url).content.decode()
    assert 'hx-trigger="every 1s"' in waiting and "已处理 0 / 1 个" in waiting
    assert not Material.objects.exists()  # the request only staged the file

    from scrm.materials.bulk import bulk_upload_process
    from scrm.materials.models import BulkUpload

    batch = BulkUpload.objects.get()
    bulk_upload_process(batch_id=batch.pk)
    bulk_upload_process(batch_id=batch.pk)  # a worker restarted mid-batch runs it again: nothing twice
    assert Material.objects.count() == 1
    done = content_client.get(status_url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="bulk-status").content.decode()
    assert "every 1s" not in done and "已处理 1 / 1 个" in done and "<h1>" not in done
    assert not batch.items.get().staged  # the staged copy is gone
