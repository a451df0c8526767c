"""Console figures: due, snoozed, overdue, done, lapsed, and whether reminders drive sales."""

import datetime as dt
from decimal import Decimal

import pytest

from scrm.customers.services import note_create
from scrm.today.models import ReminderItem
from scrm.today.reports import reminder_figures
from scrm.today.services import reminder_snooze, reminders_complete_for_contact
from tests.factories import OrderFactory, StaffFactory
from tests.today.conftest import NOW, TODAY, days_ago, refresh

pytestmark = pytest.mark.django_db


def test_figures_per_guide(guide, served):
    a, b, c, d = (served(name=n, birthday=dt.date(1990, 3, 12)) for n in "甲乙丙丁")
    note_create(customer=a, staff=guide, body="回电", next_contact_on=TODAY - dt.timedelta(3))
    refresh(a, b, c, d)
    assert ReminderItem.objects.count() == 5

    reminders_complete_for_contact(staff_id=guide.pk, customer_id=b.pk, via="material", at=NOW)
    OrderFactory(customer=b, paid_at=NOW + dt.timedelta(days=2), amount=Decimal("100"))
    reminder_snooze(item=ReminderItem.objects.get(customer=c), staff=guide, until="next_week", today=TODAY)
    # d's birthday item lapses (the window passed without the guide acting); d bought anyway.
    item = ReminderItem.objects.get(customer=d)
    ReminderItem.objects.filter(pk=item.pk).update(state="expired", closed_at=NOW, created_at=days_ago(1))
    OrderFactory(customer=d, paid_at=NOW, amount=Decimal("100"))

    other = StaffFactory()
    [row, empty] = reminder_figures(staff=[guide, other], start=TODAY, end=TODAY, today=TODAY)
    assert (row.due, row.snoozed, row.overdue) == (2, 1, 1)  # a: birthday + overdue follow-up
    assert (row.done, row.lapsed, row.bought_after_done, row.bought_after_lapse) == (1, 1, 1, 1)
    assert row.done_rate == 1.0 and row.lapse_rate == 1.0
    assert (empty.due, empty.done, empty.done_rate) == (0, 0, None)
