"""How the rest of the product tells 今日 that facts changed. Small, cheap calls, safe inside any transaction.

- `event_recorded(event)`: every new timeline event. Events of the kinds the rules read schedule a
  recompute of that customer's reminders after commit; a material sent or a note written by a guide
  also completes that guide's live items for the customer, at once, in the same transaction.
- `facts_changed(customer_ids)`: any other change the rules read (a birthday, a merge, a relation).

Recomputes are gathered per thread and sent as one Celery task when the transaction commits, so a
batch of 500 ingested events makes one task, not 500. A lost dispatch is caught up by the nightly pass.
"""

import logging
import threading
from collections.abc import Iterable

from django.db import transaction

from scrm.customers.events import EventKind
from scrm.today.models import ReminderItem

logger = logging.getLogger(__name__)

# Kinds whose arrival can create, change or end a reminder.
FACT_KINDS = frozenset(
    {
        EventKind.ORDER_PAID,
        EventKind.ORDER_REFUNDED,
        EventKind.ADD_TO_CART,
        EventKind.MP_PRODUCT_VIEW,
        EventKind.MP_VISIT,
        EventKind.NOTE,
        EventKind.TRANSFER,
        EventKind.FRIEND_ADDED,
        EventKind.FRIEND_DELETED_BY_CUSTOMER,
        EventKind.FRIEND_DELETED_BY_STAFF,
        EventKind.CUSTOMER_MERGED,
    }
)
CONTACT_KINDS = {EventKind.MATERIAL_SENT: ReminderItem.DoneVia.MATERIAL, EventKind.NOTE: ReminderItem.DoneVia.NOTE}
DISPATCH_CHUNK = 500

_local = threading.local()


def _pending() -> set[int]:
    if not hasattr(_local, "ids"):
        _local.ids = set()
    return _local.ids


def _dispatch() -> None:
    from scrm.today.tasks import refresh_reminders  # tasks import the services, which import this app

    _local.armed = False
    ids = sorted(_pending())
    _pending().clear()
    for start in range(0, len(ids), DISPATCH_CHUNK):
        chunk = ids[start : start + DISPATCH_CHUNK]
        try:
            refresh_reminders.delay(chunk)
        except Exception:
            logger.warning("reminders of %s customers left for the nightly pass", len(chunk), exc_info=True)


def facts_changed(*, customer_ids: Iterable[int]) -> None:
    """Recompute these customers' reminders once the current transaction commits."""
    _pending().update(customer_ids)
    connection = transaction.get_connection()
    # One dispatch per transaction drains everything pending: skip registering while one is armed and
    # still queued. Ids left by a rolled-back transaction ride along with the next commit.
    if (
        getattr(_local, "armed", False)
        and connection.in_atomic_block
        and any(entry[1] is _dispatch for entry in connection.run_on_commit)
    ):
        return
    _local.armed = True
    transaction.on_commit(_dispatch)


def event_recorded(event) -> None:
    """Call with each newly stored Event (not with a redelivered one)."""
    via = CONTACT_KINDS.get(event.kind)
    if via and event.staff_id:
        from scrm.today.services import reminders_complete_for_contact

        reminders_complete_for_contact(
            staff_id=event.staff_id, customer_id=event.customer_id, via=via, at=event.occurred_at
        )
    if event.kind in FACT_KINDS or via:
        facts_changed(customer_ids=[event.customer_id])


def on_event_recorded(sender, *, event, **kwargs) -> None:
    event_recorded(event)


def on_facts_changed(sender, *, customer_ids, **kwargs) -> None:
    facts_changed(customer_ids=customer_ids)
