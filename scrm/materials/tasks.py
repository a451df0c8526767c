"""Celery entry points for the material library. Thin: the logic lives in scrm.materials (media, sending, bulk)."""

from celery import shared_task

from scrm.materials import bulk, media, sending


@shared_task
def refresh_expiring_media() -> dict:
    """Beat: re-upload cached WeCom media of sendable materials before their 3-day expiry."""
    return media.material_media_refresh_due()


@shared_task
def settle_material_sends() -> int:
    """Beat: count as sent the sends handed to WeCom whose page was gone before it could report."""
    return sending.material_sends_settle()


@shared_task(acks_late=True)
def process_bulk_upload(batch_id: int) -> int:
    """Check and save the images of a bulk upload (slow queue: the pool bounds each child's memory)."""
    return bulk.bulk_upload_process(batch_id=batch_id).items.count()
