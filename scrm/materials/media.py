"""WeCom temporary media for image, video and file materials: upload, reuse while fresh (one upload
per material at a time), forget when WeCom refuses it, keep recently sent ones warm (the beat job).
"""

import datetime as dt
import logging
import re
import time

from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.materials.errors import MaterialSendError
from scrm.materials.models import Material, MaterialSend
from scrm.materials.selectors import material_list
from scrm.wecom import api
from scrm.wecom.errors import WeComError

logger = logging.getLogger(__name__)

MEDIA_KINDS = {Material.Kind.IMAGE, Material.Kind.VIDEO, Material.Kind.FILE}
# WeCom keeps a temporary media_id for 3 days.
MEDIA_TTL = dt.timedelta(days=3)
# Prepare re-uploads a media_id this close to expiry: the guide sends it a moment later.
MEDIA_REUSE_MAX_AGE = MEDIA_TTL - dt.timedelta(hours=2)
# The beat job refreshes media older than this, so sends rarely pay for an upload.
MEDIA_REFRESH_AGE = dt.timedelta(days=2, hours=12)
MEDIA_REFRESH_BATCH = 200
# One upload per material at a time; the others wait this long for its media_id.
MEDIA_LOCK_SECONDS = 60
MEDIA_LOCK_WAIT = 5.0
# Only media sent this recently are kept warm; the rest lapse and are uploaded again on their next send,
# so the job's WeCom calls follow what guides use, not the size of the library.
MEDIA_KEEP_WARM = dt.timedelta(days=14)


def media_is_fresh(material: Material, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    uploaded = material.wecom_media_uploaded_at
    return bool(material.wecom_media_id) and uploaded is not None and now - uploaded < MEDIA_REUSE_MAX_AGE


# Characters a file name cannot carry on the phones and PCs that open it.
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def media_filename(material: Material) -> str:
    """The name the customer sees in the chat: the material's title with the stored file's extension
    (the uploader's own name, say real.mp4, means nothing to a customer)."""
    stored = material.file_name or material.file.name.rsplit("/", 1)[-1]
    ext = stored.rsplit(".", 1)[-1] if "." in stored else ""
    title = " ".join(_UNSAFE_NAME.sub(" ", material.title).split())[:60]
    if not title:
        return stored
    return f"{title}.{ext}" if ext and not title.lower().endswith(f".{ext.lower()}") else title


def material_media_upload(*, material: Material, now: dt.datetime | None = None) -> str:
    """Upload the material's file as WeCom temporary media and cache the media_id on the row."""
    if material.kind not in MEDIA_KINDS:
        raise ValueError(f"{material.kind} materials have no media")
    if not material.file:
        raise MaterialSendError(_("素材文件缺失，请联系内容运营重新上传。"), status=409)
    now = now or timezone.now()
    filename = media_filename(material)
    try:
        with material.file.open("rb") as fileobj:
            media_id, created_at = api.media_upload(material.kind, filename, fileobj)
    except FileNotFoundError:
        raise MaterialSendError(_("素材文件缺失，请联系内容运营重新上传。"), status=409) from None
    # Expiry counts from WeCom's created_at; never trust a clock that is ahead of ours.
    uploaded_at = min(created_at, now) if created_at.timestamp() > 0 else now
    # Conditional on the file not having changed meanwhile (the console clears the cache then).
    Material.objects.filter(pk=material.pk, file=material.file.name).update(
        wecom_media_id=media_id, wecom_media_uploaded_at=uploaded_at
    )
    material.wecom_media_id, material.wecom_media_uploaded_at = media_id, uploaded_at
    return media_id


def material_media_ensure(*, material: Material, now: dt.datetime | None = None) -> str:
    """A media_id valid for a send now: the cached one when fresh (no WeCom call), else a new upload.

    When many guides tap the same stale poster at once, one of them uploads (a lock in the shared
    cache) and the others wait briefly for its media_id: one WeCom call instead of a burst that
    would hit the rate limit.
    """
    if media_is_fresh(material, now=now):
        return material.wecom_media_id
    lock = f"materials:media-upload:{material.pk}"
    if cache.add(lock, "1", timeout=MEDIA_LOCK_SECONDS):
        try:
            return material_media_upload(material=material, now=now)
        finally:
            cache.delete(lock)
    deadline = time.monotonic() + MEDIA_LOCK_WAIT
    while time.monotonic() < deadline:
        time.sleep(0.1)
        material.refresh_from_db(fields=["wecom_media_id", "wecom_media_uploaded_at"])
        if media_is_fresh(material, now=now):
            return material.wecom_media_id
    # The other upload failed or is slow: do it ourselves.
    return material_media_upload(material=material, now=now)


def material_media_invalidate(*, material_id: int) -> None:
    """Forget a media_id WeCom refused (expired early, deleted): the next prepare uploads again."""
    Material.objects.filter(pk=material_id).update(wecom_media_id="", wecom_media_uploaded_at=None)


def material_media_refresh_due(*, now: dt.datetime | None = None, batch: int = MEDIA_REFRESH_BATCH) -> dict:
    """Re-upload cached media of sendable materials before WeCom's 3-day expiry (the beat job).

    Only materials sent in the last MEDIA_KEEP_WARM are refreshed. One failing upload does not stop
    the others; a material that keeps failing is retried on the next run and, at worst, re-uploaded
    on demand by the next prepare.
    """
    now = now or timezone.now()
    recently_sent = MaterialSend.objects.filter(
        material=OuterRef("pk"), status=MaterialSend.Status.SENT, sent_at__gte=now - MEDIA_KEEP_WARM
    )
    due = list(
        material_list(sendable_only=True, now=now)
        .filter(kind__in=MEDIA_KINDS, wecom_media_uploaded_at__lt=now - MEDIA_REFRESH_AGE)
        .filter(Exists(recently_sent))
        .exclude(wecom_media_id="")
        .prefetch_related(None)
        .order_by("wecom_media_uploaded_at", "id")[:batch]
    )
    refreshed = failed = 0
    for material in due:
        try:
            material_media_upload(material=material, now=now)
            refreshed += 1
        except (WeComError, MaterialSendError) as exc:
            failed += 1
            logger.warning("media refresh of material %s failed: %s", material.pk, exc)
    return {"due": len(due), "refreshed": refreshed, "failed": failed}
