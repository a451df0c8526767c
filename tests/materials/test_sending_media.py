"""The WeCom media_id cache behind image, video and file sends, against the WeCom simulator over HTTP."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from scrm.materials import media, sending
from scrm.materials.models import Material
from scrm.materials.services import material_create, material_publish, material_unpublish, material_update
from scrm.materials.tasks import refresh_expiring_media
from scrm.materials.validation import check_upload
from scrm.wecom.simulator.chat_views import ChatMessageError, parse_chat_message
from scrm.wecom.simulator.models import SimMedia
from tests.materials import samples

pytestmark = pytest.mark.django_db(transaction=True)

MEDIA = ["image", "video", "file"]


def _prepare(material, customer, staff):
    return sending.material_send_prepare(material=material, customer=customer, staff=staff)


def _uploads() -> int:
    return SimMedia.objects.count()


def _age(material: Material, age: dt.timedelta) -> None:
    Material.objects.filter(pk=material.pk).update(wecom_media_uploaded_at=timezone.now() - age)
    material.refresh_from_db()


@pytest.mark.parametrize("kind", MEDIA)
def test_media_payload_is_a_valid_wecom_mediaid_of_that_type(
    wecom_sim, guide, followed_customer, sendable_materials, kind
):
    material = sendable_materials[kind]

    msg = _prepare(material, followed_customer, guide).msg

    assert msg == {"msgtype": kind, "enterChat": True, kind: {"mediaid": msg[kind]["mediaid"]}}
    media = SimMedia.objects.get(media_id=msg[kind]["mediaid"])
    assert media.type == kind
    ext = material.file_name.rsplit(".", 1)[-1]
    assert media.filename == f"{material.title}.{ext}"  # the customer sees the title, not real.mp4
    # The chat window accepts it the way WeCom would.
    assert parse_chat_message(msg)[0] == kind


def test_a_fresh_cached_media_id_makes_no_wecom_call(wecom_sim, guide, followed_customer, sendable_materials):
    material = sendable_materials["image"]
    first = _prepare(material, followed_customer, guide).msg["image"]["mediaid"]
    uploads = _uploads()

    material.refresh_from_db()
    again = [_prepare(material, followed_customer, guide).msg["image"]["mediaid"] for _ in range(3)]

    assert again == [first] * 3
    assert _uploads() == uploads == 1
    assert material.wecom_media_id == first


def test_media_nearly_three_days_old_is_uploaded_again_on_prepare(
    wecom_sim, guide, followed_customer, sendable_materials
):
    material = sendable_materials["video"]
    first = _prepare(material, followed_customer, guide).msg["video"]["mediaid"]
    _age(material, dt.timedelta(days=3))

    second = _prepare(material, followed_customer, guide).msg["video"]["mediaid"]

    assert second != first
    assert _uploads() == 2
    material.refresh_from_db()
    assert material.wecom_media_id == second
    assert timezone.now() - material.wecom_media_uploaded_at < dt.timedelta(minutes=1)


def test_media_wecom_expired_early_is_dropped_after_the_failed_send_and_uploaded_again(
    wecom_sim, guide, followed_customer, sendable_materials
):
    material = sendable_materials["file"]
    prepared = _prepare(material, followed_customer, guide)
    wecom_sim.media_expire(media_id=prepared.msg["file"]["mediaid"])
    # What the chat window answers the sidebar's sendChatMessage now.
    with pytest.raises(ChatMessageError) as refused:
        parse_chat_message(prepared.msg)
    err_msg = f"sendChatMessage:fail {refused.value}"

    outcome = sending.material_send_record(
        request_id=prepared.request_id, customer=followed_customer, staff=guide, status="failed", error=err_msg
    )

    assert outcome.retry is True
    assert outcome.send.error == "sendChatMessage:fail invalid media_id"
    material.refresh_from_db()
    again = _prepare(material, followed_customer, guide).msg
    assert again["file"]["mediaid"] != prepared.msg["file"]["mediaid"]
    assert parse_chat_message(again)[0] == "file"
    assert _uploads() == 2


def test_a_new_file_from_the_console_is_uploaded_on_the_next_send(
    wecom_sim, guide, followed_customer, sendable_materials
):
    material = sendable_materials["image"]
    old = _prepare(material, followed_customer, guide).msg["image"]["mediaid"]

    material_update(material=material, upload=check_upload(samples.upload("新海报.jpg", samples.jpeg()), kind="image"))
    material.refresh_from_db()
    assert material.wecom_media_id == ""
    new = _prepare(material, followed_customer, guide).msg["image"]["mediaid"]

    assert new != old
    assert SimMedia.objects.get(media_id=new).filename == f"{material.title}.jpg"


def test_a_new_title_reaches_the_chat_on_the_next_send(wecom_sim, guide, followed_customer, sendable_materials):
    material = sendable_materials["file"]
    _prepare(material, followed_customer, guide)

    material_update(material=material, title="秋冬护肤手册: 2026/版")
    material.refresh_from_db()
    media_id = _prepare(material, followed_customer, guide).msg["file"]["mediaid"]

    ext = material.file_name.rsplit(".", 1)[-1]
    assert SimMedia.objects.get(media_id=media_id).filename == f"秋冬护肤手册 2026 版.{ext}"


def test_a_wecom_failure_in_prepare_is_a_clear_chinese_error(wecom_sim, guide, followed_customer, sendable_materials):
    wecom_sim.fault_inject(path="media/upload", errcode=48002, times=1)

    with pytest.raises(sending.MaterialSendError) as info:
        _prepare(sendable_materials["image"], followed_customer, guide)

    assert info.value.status == 502
    assert info.value.message == "上传素材到企业微信失败（错误码 48002），请稍后重试。"
    assert not Material.objects.filter(pk=sendable_materials["image"].pk).exclude(wecom_media_id="").exists()
    # Text needs no WeCom call, so it is unaffected.
    assert _prepare(sendable_materials["text"], followed_customer, guide).msg["msgtype"] == "text"


def _send(prepared, customer, staff, *, days_ago: float = 0) -> None:
    sending.material_send_record(
        request_id=prepared.request_id,
        customer=customer,
        staff=staff,
        status="sent",
        now=timezone.now() - dt.timedelta(days=days_ago),
    )


def test_the_beat_job_refreshes_only_used_sendable_media_near_expiry(
    wecom_sim, guide, followed_customer, sendable_materials
):
    image, video, file = (sendable_materials[k] for k in MEDIA)
    idle = material_create(
        kind="image",
        title="闲置图片",
        created_by=None,
        upload=check_upload(samples.upload("闲置.png", samples.png(30, 30)), kind="image"),
    )
    material_publish(material=idle)
    ids = {}
    for material in (image, video, file, idle):
        prepared = _prepare(material, followed_customer, guide)
        ids[material.pk] = prepared.msg[material.kind]["mediaid"]
        _send(prepared, followed_customer, guide, days_ago=30 if material is idle else 1)
    _age(image, dt.timedelta(days=2, hours=13))  # due
    _age(video, dt.timedelta(days=1))  # still fresh
    _age(file, dt.timedelta(days=2, hours=20))  # due but no longer offered to guides
    material_unpublish(material=file)
    _age(idle, dt.timedelta(days=2, hours=20))  # due but nobody sent it lately: left to lapse

    result = refresh_expiring_media.delay().get()

    assert result == {"due": 1, "refreshed": 1, "failed": 0}
    for material in (image, video, file, idle):
        material.refresh_from_db()
    assert image.wecom_media_id != ids[image.pk]
    assert timezone.now() - image.wecom_media_uploaded_at < dt.timedelta(minutes=1)
    assert video.wecom_media_id == ids[video.pk]
    assert file.wecom_media_id == ids[file.pk]
    assert idle.wecom_media_id == ids[idle.pk]
    # The refreshed one is then served from the cache.
    uploads = _uploads()
    assert _prepare(image, followed_customer, guide).msg["image"]["mediaid"] == image.wecom_media_id
    assert _uploads() == uploads


def test_the_beat_job_carries_on_past_a_failing_upload(wecom_sim, guide, followed_customer, sendable_materials):
    for kind in ("image", "video"):
        _send(_prepare(sendable_materials[kind], followed_customer, guide), followed_customer, guide)
        _age(sendable_materials[kind], dt.timedelta(days=2, hours=18))
    wecom_sim.fault_inject(path="media/upload", errcode=40004, times=1)

    result = media.material_media_refresh_due()

    assert result == {"due": 2, "refreshed": 1, "failed": 1}


def test_a_tap_during_another_upload_waits_for_its_media_id(
    wecom_sim, guide, followed_customer, sendable_materials, monkeypatch
):
    material = sendable_materials["image"]
    # Another request holds the upload lock; its upload lands while this one waits.
    cache.add(f"materials:media-upload:{material.pk}", "1")

    def other_upload_lands(seconds):
        Material.objects.filter(pk=material.pk).update(
            wecom_media_id="3i_from_the_other_request", wecom_media_uploaded_at=timezone.now()
        )

    monkeypatch.setattr(media.time, "sleep", other_upload_lands)

    msg = _prepare(material, followed_customer, guide).msg

    assert msg["image"]["mediaid"] == "3i_from_the_other_request"
    assert _uploads() == 0


def test_a_tap_uploads_itself_when_the_other_upload_never_lands(
    wecom_sim, guide, followed_customer, sendable_materials, monkeypatch
):
    material = sendable_materials["video"]
    cache.add(f"materials:media-upload:{material.pk}", "1")
    monkeypatch.setattr(media, "MEDIA_LOCK_WAIT", 0.3)

    msg = _prepare(material, followed_customer, guide).msg

    assert SimMedia.objects.get(media_id=msg["video"]["mediaid"]).type == "video"


def test_an_untrusted_server_ip_asks_for_the_admin_not_a_retry(wecom_sim, guide, followed_customer, sendable_materials):
    wecom_sim.fault_inject(path="media/upload", errcode=60020, times=1)

    with pytest.raises(sending.MaterialSendError) as info:
        _prepare(sendable_materials["image"], followed_customer, guide)

    assert "企业可信IP" in info.value.message and "重试" not in info.value.message
