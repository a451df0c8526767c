"""The hooks: facts changed → one recompute after commit; a material or note → that guide's items done."""

import datetime as dt

import pytest
from django.db import transaction

from scrm.customers.events import EventKind
from scrm.today import hooks
from scrm.today.models import ReminderItem
from tests.factories import EventFactory, FollowRelationFactory, StaffFactory
from tests.today.conftest import NOW, refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr("scrm.today.tasks.refresh_reminders.delay", lambda ids: calls.append(ids))
    return calls


def test_many_facts_in_one_transaction_make_one_task(served, sent, django_capture_on_commit_callbacks):
    customers = [served() for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for c in customers * 2:
            hooks.facts_changed(customer_ids=[c.pk])
    assert sent == [sorted(c.pk for c in customers)]


def test_a_material_sent_completes_that_guides_items_only(guide, served):
    customer = served(birthday=dt.date(1990, 3, 12))
    other = StaffFactory()
    FollowRelationFactory(staff=other, customer=customer)
    refresh(customer)
    hooks.event_recorded(EventFactory(customer=customer, kind=EventKind.MATERIAL_SENT, staff=guide, occurred_at=NOW))
    states = dict(ReminderItem.objects.values_list("staff_id", "state"))
    assert states == {guide.pk: "done", other.pk: "open"}
    assert ReminderItem.objects.get(staff=guide).done_via == "material"


def test_only_the_rules_kinds_schedule_a_recompute(served, sent, django_capture_on_commit_callbacks):
    customer = served()
    with django_capture_on_commit_callbacks(execute=True):
        hooks.event_recorded(EventFactory(customer=customer, kind=EventKind.OA_ARTICLE_READ))
    assert sent == []
    with django_capture_on_commit_callbacks(execute=True):
        hooks.event_recorded(EventFactory(customer=customer, kind=EventKind.ADD_TO_CART))
        hooks.event_recorded(EventFactory(customer=customer, kind=EventKind.MP_VISIT))
    assert sent == [[customer.pk]]


def test_ids_left_by_a_rolled_back_transaction_do_not_block_the_next_one(
    served, sent, django_capture_on_commit_callbacks
):
    customer = served()
    with pytest.raises(RuntimeError), transaction.atomic():
        hooks.facts_changed(customer_ids=[customer.pk])
        raise RuntimeError
    with django_capture_on_commit_callbacks(execute=True):
        hooks.facts_changed(customer_ids=[customer.pk])
    assert sent == [[customer.pk]]


def test_event_record_calls_the_hook_once_per_new_event(served, sent, django_capture_on_commit_callbacks):
    from scrm.customers.events import event_record

    customer = served()
    fields = dict(customer=customer, kind=EventKind.ADD_TO_CART, occurred_at=NOW, channel="mp", title="加购")
    with django_capture_on_commit_callbacks(execute=True):
        event_record(dedupe_key="t:1", **fields)
    with django_capture_on_commit_callbacks(execute=True):
        event_record(dedupe_key="t:1", **fields)  # a redelivery changes nothing
    assert sent == [[customer.pk]]
