"""Pushing a live code to WeCom: create, update or delete its contact way with the user list the
spreading rules pick, log each decision, keep a local copy of the QR image; the minute sweep.
"""

import datetime as dt
import io
import logging

import requests
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from scrm.livecodes.models import LiveCode, LiveCodeDecision
from scrm.livecodes.spread import users_for
from scrm.wecom import api
from scrm.wecom.errors import WeComError

logger = logging.getLogger(__name__)

Reason = LiveCodeDecision.Reason


def _log(code: LiveCode, reason: str, before: list, after: list, detail: str) -> None:
    LiveCodeDecision.objects.create(
        code=code, reason=reason, users_before=before, users_after=after, detail=detail[:255]
    )


SYNC_ROUNDS = 3
CREATE_LOCK_SECONDS = 60


def _contact_way_create(*, code: LiveCode, users: list[str]) -> bool:
    """add_contact_way once per code: the create right after saving and the minute sweep may meet, and
    a second call would leave an orphan QR code in WeCom. False when another process holds the claim."""
    lock = f"livecodes:create:{code.pk}"
    if not cache.add(lock, "1", timeout=CREATE_LOCK_SECONDS):
        return False
    try:
        stored = LiveCode.objects.filter(pk=code.pk).values_list("config_id", "qr_code").first()
        if stored and stored[0]:
            code.config_id, code.qr_code = stored
            return True
        result = api.add_contact_way(
            type=2, scene=2, user=users, state=code.state, remark=code.name[:30], skip_verify=code.skip_verify
        )
        code.config_id, code.qr_code = result["config_id"], result["qr_code"]
        LiveCode.objects.filter(pk=code.pk).update(config_id=code.config_id, qr_code=code.qr_code)
        return True
    finally:
        cache.delete(lock)


def livecode_sync(*, code_id: int, reason: str = "", detail: str = "", now: dt.datetime | None = None) -> str:
    """Bring WeCom's contact way in line with the code: create, delete, or push a new user list.

    No transaction is open while WeCom is called. Two pushes racing (two adds reaching two caps at
    once) cannot leave a stale list behind: after each push the list is computed again from the newest
    counts and pushed once more if it moved, so whoever pushes last has checked its list is current.
    A list that did not change costs no WeCom call and no log line (unless the code was just created or
    edited). Returns the sync status.
    """
    code = LiveCode.objects.filter(pk=code_id).first()
    if code is None:
        return ""
    if code.deleted_at is not None:
        if code.config_id:
            try:
                api.del_contact_way(code.config_id)
            except WeComError as exc:
                if exc.retryable:
                    raise
            _log(code, Reason.DELETED, list(code.wecom_users), [], detail)
            LiveCode.objects.filter(pk=code.pk).update(config_id="", wecom_users=[])
        return code.sync_status
    for _round in range(SYNC_ROUNDS):
        before = list(code.wecom_users)
        spread = users_for(code, now=now)
        try:
            if not spread.users:
                raise ValidationError(_("没有在职的接待导购"))
            if not code.config_id:
                if not _contact_way_create(code=code, users=spread.users):
                    return code.sync_status  # another process is creating it right now
            elif reason in (Reason.CREATED, Reason.EDITED):
                api.update_contact_way(
                    code.config_id,
                    user=spread.users,
                    state=code.state,
                    remark=code.name[:30],
                    skip_verify=code.skip_verify,
                )
            elif spread.users != before:
                api.update_contact_way(code.config_id, user=spread.users)
            else:
                return code.sync_status  # WeCom already has this list
        except (WeComError, ValidationError) as exc:
            message = f"{exc.errcode}: {exc.reason}" if isinstance(exc, WeComError) else "；".join(exc.messages)
            LiveCode.objects.filter(pk=code.pk).update(
                sync_status=LiveCode.SyncStatus.FAILED, sync_error=message[:255], updated_at=timezone.now()
            )
            _log(code, Reason.SYNC_FAILED, before, before, message)
            if isinstance(exc, WeComError) and exc.retryable:
                raise
            return LiveCode.SyncStatus.FAILED
        LiveCode.objects.filter(pk=code.pk).update(
            config_id=code.config_id,
            qr_code=code.qr_code,
            wecom_users=spread.users,
            sync_status=LiveCode.SyncStatus.OK,
            sync_error="",
            updated_at=timezone.now(),
        )
        why = reason if reason in (Reason.CREATED, Reason.EDITED) else spread.reason or reason or Reason.EDITED
        _log(code, why, before, spread.users, spread.detail or detail)
        if code.qr_code and not code.qr_image:
            livecode_qr_fetch(code=code)
        code.wecom_users, code.sync_status = spread.users, LiveCode.SyncStatus.OK
        reason = ""  # later rounds only follow counts that moved meanwhile
    return code.sync_status


QR_MAX_BYTES = 2 * 1024 * 1024


def livecode_qr_fetch(*, code: LiveCode) -> bool:
    """Keep a local copy of WeCom's QR image (shown, downloaded, put on posters). False on failure:
    the page then shows WeCom's URL and the next sync tries again."""
    try:
        response = requests.get(code.qr_code, timeout=5)
        response.raise_for_status()
        content = response.content
        if len(content) > QR_MAX_BYTES:
            raise ValueError("QR image too large")
        Image.open(io.BytesIO(content)).verify()
    except (requests.RequestException, ValueError, OSError) as exc:
        logger.warning("live code %s: QR image not fetched: %s", code.pk, exc)
        return False
    code.qr_image.save(f"{code.state}.png", ContentFile(content), save=False)
    LiveCode.objects.filter(pk=code.pk).update(qr_image=code.qr_image.name)
    return True


def livecodes_sync_due(*, now: dt.datetime | None = None) -> int:
    """The minute sweep: hours start and end, a new day resets caps, lost dispatches are caught up.

    Only codes whose computed list differs from WeCom's (or that never reached WeCom) are pushed."""
    changed = 0
    for code in LiveCode.objects.filter(deleted_at__isnull=True).prefetch_related("members__staff"):
        if code.config_id and users_for(code, now=now).users == code.wecom_users:
            continue
        try:
            livecode_sync(code_id=code.pk, reason=Reason.SWEEP if code.config_id else Reason.CREATED, now=now)
            changed += 1
        except WeComError:
            logger.warning("live code %s sync failed", code.pk, exc_info=True)
    for code in LiveCode.objects.filter(deleted_at__isnull=False).exclude(config_id=""):
        livecode_sync(code_id=code.pk, reason=Reason.DELETED, now=now)
        changed += 1
    # A QR image whose copy failed after the sync (WeCom's image host slow): fetch it again.
    for code in LiveCode.objects.filter(deleted_at__isnull=True, qr_image="").exclude(qr_code=""):
        livecode_qr_fetch(code=code)
    return changed
