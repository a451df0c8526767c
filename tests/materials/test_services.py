import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from scrm.customers.models import Tag
from scrm.materials.models import Material, MaterialCategory
from scrm.materials.placeholders import material_render_text
from scrm.materials.services import (
    category_create,
    category_move,
    category_rename,
    material_create,
    material_publish,
    material_unpublish,
    material_update,
)
from scrm.materials.validation import check_upload
from tests.factories import CustomerFactory, FollowRelationFactory, MaterialFactory, StaffFactory, StoreFactory
from tests.materials import samples

pytestmark = pytest.mark.django_db


def checked_png():
    return check_upload(samples.upload("春季新品.png", samples.png(800, 600)), kind="image")


def test_image_material_stores_reencoded_file_and_thumbnail(content_staff, media_files):
    material = material_create(kind="image", title="春季新品", created_by=content_staff, upload=checked_png())
    material.refresh_from_db()
    assert material.status == Material.Status.DRAFT
    assert material.file.name.endswith(".jpg") and material.thumbnail.name.endswith(".jpg")
    assert material.file_name == "春季新品.jpg" and material.file_mime == "image/jpeg"
    assert material.file_size == material.file.size
    assert len(media_files()) == 2


def test_failed_save_leaves_no_row_and_no_file(content_staff, media_files):
    tag = Tag(name="未保存的标签")  # fails the M2M write after the files were stored
    with pytest.raises(ValueError):
        material_create(kind="image", title="x", created_by=content_staff, upload=checked_png(), audience_tags=[tag])
    assert Material.objects.count() == 0
    assert media_files() == []


def test_replacing_a_file_deletes_the_old_one_and_forgets_the_media_id(
    content_staff, media_files, django_capture_on_commit_callbacks
):
    material = material_create(kind="image", title="a", created_by=content_staff, upload=checked_png())
    old = set(media_files())
    Material.objects.filter(pk=material.pk).update(wecom_media_id="MEDIA1", wecom_media_uploaded_at=timezone.now())
    material.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        material_update(
            material=material, upload=check_upload(samples.upload("b.png", samples.png(alpha=True)), kind="image")
        )
    material.refresh_from_db()
    assert material.wecom_media_id == "" and material.wecom_media_uploaded_at is None
    assert material.file.name.endswith(".png")
    assert not old & set(media_files())
    assert len(media_files()) == 2


def test_file_kinds_require_a_file(content_staff):
    with pytest.raises(ValidationError) as excinfo:
        material_create(kind="video", title="开箱", created_by=content_staff)
    assert "file" in excinfo.value.message_dict


def test_miniprogram_page_must_end_with_html(content_staff):
    cover = checked_png()
    with pytest.raises(ValidationError) as excinfo:
        material_create(
            kind="miniprogram",
            title="小程序商城",
            created_by=content_staff,
            cover=cover,
            mp_appid="wx1234567890abcdef",
            mp_page="pages/index/index",
        )
    assert ".html" in excinfo.value.message_dict["mp_page"][0]
    material = material_create(
        kind="miniprogram",
        title="小程序商城",
        created_by=content_staff,
        cover=cover,
        mp_appid="wx1234567890abcdef",
        mp_page="pages/index/index.html?from=guide",
    )
    assert material.cover.name.endswith(".jpg")


def test_link_card_needs_http_url(content_staff):
    with pytest.raises(ValidationError) as excinfo:
        material_create(kind="link", title="新品发布", created_by=content_staff, link_url="javascript:alert(1)")
    assert "link_url" in excinfo.value.message_dict


def test_validity_window_must_be_ordered(content_staff):
    now = timezone.now()
    with pytest.raises(ValidationError) as excinfo:
        material_create(kind="text", title="t", content="c", created_by=content_staff, valid_from=now, valid_until=now)
    assert "valid_until" in excinfo.value.message_dict


def test_publish_unpublish_and_validity():
    now = timezone.now()
    material = MaterialFactory(status=Material.Status.DRAFT, valid_until=now + dt.timedelta(days=1))
    assert not material.is_sendable(now)
    material_publish(material=material, now=now)
    assert material.status == Material.Status.PUBLISHED and material.published_at == now
    assert material.is_sendable(now)
    assert not material.is_sendable(now + dt.timedelta(days=2))  # expired
    material_publish(material=material, now=now + dt.timedelta(hours=1))  # idempotent
    assert material.published_at == now
    material_unpublish(material=material)
    material.refresh_from_db()
    assert material.status == Material.Status.UNPUBLISHED and not material.is_sendable(now)


def test_not_yet_valid_material_is_not_sendable():
    now = timezone.now()
    material = MaterialFactory(valid_from=now + dt.timedelta(hours=1))
    assert not material.is_sendable(now)
    assert material.is_sendable(now + dt.timedelta(hours=2))


def test_expired_material_cannot_be_published():
    material = MaterialFactory(status=Material.Status.DRAFT, valid_until=timezone.now() - dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        material_publish(material=material)
    material.refresh_from_db()
    assert material.status == Material.Status.DRAFT


def test_placeholders_filled_per_customer_and_unknown_left_visible():
    store = StoreFactory(name="静安嘉里店", address="南京西路1515号")
    guide = StaffFactory(name="小美", store=store)
    customer = CustomerFactory(name="Lily")
    FollowRelationFactory(staff=guide, customer=customer, remark="王女士")
    material = MaterialFactory(content="{客户称呼}您好，我是{门店}的{导购姓名}，地址{门店地址}。{优惠码} {客户昵称}")
    text = material_render_text(material=material, customer=customer, staff=guide)
    assert text == "王女士您好，我是静安嘉里店的小美，地址南京西路1515号。{优惠码} Lily"


def test_placeholder_falls_back_to_polite_form():
    guide = StaffFactory(name="小美")
    customer = CustomerFactory(name="")
    material = MaterialFactory(content="{客户称呼}好")
    assert material_render_text(material=material, customer=customer, staff=guide) == "您好"


def test_category_tree_create_rename_move():
    skin = category_create(name="护肤")
    serum = category_create(name="精华", parent=skin)
    category_create(name="精华")  # same name at another level is fine
    with pytest.raises(ValidationError):
        category_create(name="精华", parent=skin)
    with pytest.raises(ValidationError):
        category_create(name="护肤")  # top-level duplicates too
    with pytest.raises(ValidationError):
        category_create(name="   ")
    category_rename(category=serum, name="精华液")
    assert MaterialCategory.objects.get(pk=serum.pk).name == "精华液"
    with pytest.raises(ValidationError):
        category_move(category=skin, parent=serum)  # would make a cycle
    category_move(category=serum, parent=None)
    assert MaterialCategory.objects.get(pk=serum.pk).parent is None


def test_django_admin_cannot_bypass_upload_checks(admin_client):
    material = MaterialFactory(kind="image")
    response = admin_client.post(
        f"/admin/materials/material/{material.pk}/change/",
        {
            "kind": "image",
            "title": "x",
            "status": "draft",
            "audience_stages": "[]",
            "file": samples.upload("evil.png", samples.svg_with_script()),
        },
    )
    material.refresh_from_db()
    assert not material.file
    assert response.status_code in (200, 302)
