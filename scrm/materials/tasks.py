"""Celery entry points for the material library. Thin: the logic lives in scrm.materials.sending."""

from celery import shared_task

from scrm.materials import sending


@shared_task
def refresh_expiring_media() -> dict:
    """Beat: re-upload cached WeCom media of sendable materials before their 3-day expiry."""
    return sending.material_media_refresh_due()
