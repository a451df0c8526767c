"""Bulk image uploads without the page's script: stage the files at once, check them in a worker.

The request only stores the bytes; decoding, re-encoding and thumbnails (seconds and hundreds of MB
for a large PNG) run in a Celery worker, whose pool restarts a child past its memory bound, so twenty
such files never hit the web server's timeout and a page shows each result as it comes.
"""

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.materials.models import BulkUpload, BulkUploadItem, MaterialCategory
from scrm.materials.services import material_bulk_image_create
from scrm.materials.validation import check_upload
from scrm.org.models import Staff


def bulk_upload_start(*, files: list, created_by: Staff | None, category: MaterialCategory | None) -> BulkUpload:
    """Store the posted files as one batch and have a worker check and save them."""
    from scrm.materials.tasks import process_bulk_upload  # tasks import this module

    with transaction.atomic():
        batch = BulkUpload.objects.create(created_by=created_by, category=category)
        for position, upload in enumerate(files):
            BulkUploadItem.objects.create(batch=batch, position=position, name=upload.name[:255], staged=upload)
        transaction.on_commit(lambda: process_bulk_upload.delay(batch.pk))
    return batch


def bulk_upload_process(*, batch_id: int) -> BulkUpload:
    """Check and save each pending item; safe to run again (a worker restarted mid-batch resumes)."""
    batch = BulkUpload.objects.select_related("created_by", "category").get(pk=batch_id)
    for item in batch.items.filter(status=BulkUploadItem.Status.PENDING):
        _process_one(batch, item)
    BulkUpload.objects.filter(pk=batch.pk, finished_at__isnull=True).update(finished_at=timezone.now())
    batch.refresh_from_db()
    return batch


def _process_one(batch: BulkUpload, item: BulkUploadItem) -> None:
    try:
        with item.staged.open("rb") as staged:
            # Under the name the user chose (the staged copy has a storage name): the title comes from it.
            checked = check_upload(SimpleUploadedFile(item.name, staged.read()), kind="image")
        material, created = material_bulk_image_create(
            upload=checked, created_by=batch.created_by, category=batch.category
        )
        item.status = BulkUploadItem.Status.SAVED if created else BulkUploadItem.Status.DUPLICATE
        item.material = material
    except ValidationError as exc:
        item.status, item.error = BulkUploadItem.Status.FAILED, " ".join(exc.messages)[:300]
    except FileNotFoundError:
        item.status, item.error = BulkUploadItem.Status.FAILED, _("文件已丢失，请重新上传。")
    item.staged.delete(save=False)
    item.save(update_fields=["status", "error", "material", "staged"])
