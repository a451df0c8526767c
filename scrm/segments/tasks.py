from celery import shared_task

from scrm.segments import services


@shared_task
def snapshot_segment_counts() -> int:
    """Nightly: each saved segment's size, for its trend."""
    return services.segments_snapshot_all()


@shared_task
def run_tag_batch(batch_id: int) -> int:
    from scrm.segments.tagging import tag_batch_run

    return tag_batch_run(batch_id=batch_id).processed


@shared_task
def resume_tag_batches() -> int:
    from scrm.segments.tagging import tag_batches_resume

    return tag_batches_resume()
