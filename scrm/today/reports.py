"""Console figures of 今日 per guide (and summed per store): is the list worked, does it sell?

- due: items on the guide's list today (open, or snoozed until today or earlier);
- snoozed: items snoozed to a later day; overdue: open follow-ups whose 下次联系 date has passed;
- done / lapsed: items done by the guide / expired before the guide acted, closed inside the period;
- bought after done: done items whose customer paid an order within 7 days of the item being done;
- bought after lapse: lapsed items whose customer paid within 7 days of the item appearing — the
  baseline a manager compares against.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from scrm.customers.models import Order
from scrm.org.models import Staff
from scrm.today.models import ReminderItem, ReminderKind
from scrm.today.selectors import visible_q

State = ReminderItem.State
OUTCOME_DAYS = 7


@dataclass
class GuideFigures:
    staff: Staff
    due: int = 0
    snoozed: int = 0
    overdue: int = 0
    done: int = 0
    dismissed: int = 0
    lapsed: int = 0
    bought_after_done: int = 0
    bought_after_lapse: int = 0

    @property
    def done_rate(self) -> float | None:
        return self.bought_after_done / self.done if self.done else None

    @property
    def lapse_rate(self) -> float | None:
        return self.bought_after_lapse / self.lapsed if self.lapsed else None


def _bought_within(start_field: str) -> Exists:
    return Exists(
        Order.objects.filter(
            customer_id=OuterRef("customer_id"),
            paid_at__gte=OuterRef(start_field),
            paid_at__lte=OuterRef(start_field) + dt.timedelta(days=OUTCOME_DAYS),
        ).exclude(status="refunded")
    )


def reminder_figures(
    *, staff: list[Staff], start: dt.date, end: dt.date, today: dt.date | None = None
) -> list[GuideFigures]:
    """One row per guide, in the order given; the period [start, end] counts closed items."""
    today = today or timezone.localdate()
    rows = {s.pk: GuideFigures(staff=s) for s in staff}
    items = ReminderItem.objects.filter(staff_id__in=list(rows))
    live = items.values("staff_id").annotate(
        due=Count("pk", filter=visible_q(today)),
        snoozed=Count("pk", filter=Q(state=State.SNOOZED, snoozed_until__gt=today)),
        overdue=Count("pk", filter=Q(state=State.OPEN, kind=ReminderKind.FOLLOW_UP, due_on__lt=today)),
    )
    for r in live:
        row = rows[r["staff_id"]]
        row.due, row.snoozed, row.overdue = r["due"], r["snoozed"], r["overdue"]
    closed = items.filter(closed_at__date__gte=start, closed_at__date__lte=end)
    for r in closed.values("staff_id", "state").annotate(n=Count("pk")):
        row = rows[r["staff_id"]]
        if r["state"] == State.DONE:
            row.done = r["n"]
        elif r["state"] == State.DISMISSED:
            row.dismissed = r["n"]
        elif r["state"] == State.EXPIRED:
            row.lapsed = r["n"]
    for state, start_field, attr in (
        (State.DONE, "closed_at", "bought_after_done"),
        (State.EXPIRED, "created_at", "bought_after_lapse"),
    ):
        counted = (
            closed.filter(state=state)
            .annotate(bought=_bought_within(start_field))
            .filter(bought=True)
            .values("staff_id")
            .annotate(n=Count("pk"))
        )
        for r in counted:
            setattr(rows[r["staff_id"]], attr, r["n"])
    return list(rows.values())
