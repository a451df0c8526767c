"""Reads for the console's 概览: a store's (or the brand's) headline figures and what needs attention."""

import datetime as dt
from dataclasses import dataclass

from scrm.analytics.figures import Row
from scrm.analytics.periods import period_for
from scrm.analytics.selectors import Scope, performance_dashboard
from scrm.customers.models import Customer
from scrm.handover.models import HandoverItem
from scrm.today.models import ReminderItem, ReminderKind

HEADLINE = ("adds", "buyers", "orders", "gmv")
IN_PROGRESS = (HandoverItem.State.PENDING, HandoverItem.State.SENDING, HandoverItem.State.WAITING)


@dataclass
class Attention:
    total: Row  # the last 7 days, compared with the 7 before
    overdue_followups: int
    handovers_in_progress: int
    churn_risk: int


def store_attention(*, store_id: int | None, today: dt.date) -> Attention:
    """store_id None: the whole brand (admins)."""
    period = period_for(preset="7d", today=today)
    total = performance_dashboard(scope=Scope(store_id=store_id), period=period).total
    items = HandoverItem.objects.filter(state__in=IN_PROGRESS)
    # The same follow-ups the guides' 今日 shows as overdue (serving guides, not the departed), per customer.
    overdue = ReminderItem.objects.filter(
        kind=ReminderKind.FOLLOW_UP, state__in=ReminderItem.LIVE_STATES, due_on__lt=today, staff__is_active=True
    )
    customers = Customer.objects.filter(churn_risk=True, merged_into__isnull=True)
    if store_id is not None:
        items = items.filter(batch__store_id=store_id)
        customers = customers.filter(store_id=store_id)
        overdue = overdue.filter(staff__store_id=store_id)
    return Attention(
        total=total,
        overdue_followups=overdue.values("customer_id").distinct().count(),
        handovers_in_progress=items.count(),
        churn_risk=customers.count(),
    )
