"""Simulated temporary media upload."""

from django.http import HttpRequest

from scrm.wecom.simulator import services
from scrm.wecom.simulator.endpoints.common import SimError, ok, unix
from scrm.wecom.simulator.models import SimMedia


def media_upload(request: HttpRequest, body: dict) -> dict:
    kind = request.GET.get("type", "")
    if kind not in ("image", "voice", "video", "file"):
        raise SimError(40004, "invalid media type")
    upload = request.FILES.get("media")
    if upload is None:
        raise SimError(41005, "media data missing")
    if upload.size <= 5:
        raise SimError(40005, "invalid file size")
    media = SimMedia.objects.create(
        media_id=services.new_id(f"3{kind[0]}", 24), type=kind, filename=upload.name[:200], size=upload.size
    )
    return ok(type=kind, media_id=media.media_id, created_at=str(unix(media.created_at)))
