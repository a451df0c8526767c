"""Writes that involve WeCom. Anything that calls WeCom runs in Celery after commit."""

from django.db import transaction

from scrm.wecom.models import TagOutbox


def tag_outbox_enqueue(*, userid: str, external_userid: str, add: list[int], remove: list[int]) -> TagOutbox:
    """Queue a mark_tag push for the guide's relation; call inside the local edit's transaction."""
    row = TagOutbox.objects.create(
        userid=userid, external_userid=external_userid, add_tag_ids=list(add), remove_tag_ids=list(remove)
    )
    transaction.on_commit(lambda: _dispatch_tag_push(row.pk))
    return row


def _dispatch_tag_push(row_id: int) -> None:
    # Imported late: tasks import services. If the broker is down the row stays pending
    # and the periodic sweep pushes it.
    from scrm.wecom import tasks

    try:
        tasks.push_tag_outbox.delay(row_id)
    except Exception:  # broker unreachable
        import logging

        logging.getLogger(__name__).warning("tag outbox %s left for the sweep: broker unreachable", row_id)
