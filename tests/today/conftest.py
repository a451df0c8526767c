import datetime as dt
import zoneinfo

import pytest

from scrm.today.models import ReminderItem
from scrm.today.services import reminders_refresh
from tests.factories import CustomerFactory, FollowRelationFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# The fixed clock of these tests: a Tuesday morning in the shop's time zone.
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def refresh(*customers, now: dt.datetime = NOW) -> list[int]:
    return reminders_refresh(customer_ids=[c.pk for c in customers], now=now)


def live(customer=None, **filters) -> list[ReminderItem]:
    items = ReminderItem.objects.filter(state__in=ReminderItem.LIVE_STATES, **filters)
    if customer is not None:
        items = items.filter(customer=customer)
    return list(items.order_by("-score", "pk"))


@pytest.fixture
def served(db, guide):
    """A factory of customers the guide serves (active relation since 60 days)."""

    def make(**fields):
        customer = CustomerFactory(store=guide.store, **fields)
        FollowRelationFactory(staff=guide, customer=customer, added_at=days_ago(60))
        return customer

    return make
