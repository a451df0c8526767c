from celery import shared_task


@shared_task(acks_late=True)
def push_tag_outbox(row_id: int) -> None:
    """Push one TagOutbox row to WeCom (mark_tag). Implemented with the WeCom client."""
