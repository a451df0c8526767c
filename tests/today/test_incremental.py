"""Through the real fact-changing services, on a fixed clock: the hooks alone keep 今日 current, and the
nightly pass rebuilds exactly the same items; a material sent through the sidebar's flow completes them."""

import datetime as dt
from decimal import Decimal

import pytest

from scrm.customers import ingest, ingest_orders
from scrm.customers.events import Channel, EventKind
from scrm.customers.services import note_create
from scrm.materials.sending import material_send_prepare, material_send_record
from scrm.products.services import product_upsert
from scrm.today.models import ReminderItem
from scrm.today.services import reminders_refresh_all
from tests.factories import MaterialFactory
from tests.today.conftest import NOW, TODAY, days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def _snapshot():
    return sorted(
        (i.kind, i.customer_id, i.staff_id, i.occurrence, i.due_on, round(i.score, 3), i.material_id, i.state)
        for i in ReminderItem.objects.filter(state__in=ReminderItem.LIVE_STATES)
    )


def test_hooks_alone_keep_today_current_and_match_the_nightly_pass(
    fixed_clock, guide, served, django_capture_on_commit_callbacks
):
    MaterialFactory(title="会员日邀约")
    product_upsert(sku="ESS", name="修护精华", usage_days=30)
    customer = served(name="王女士")
    ext = customer.follow_relations.get().external_userid
    who = {"wecom_external_userid": ext}
    line = ingest.LineData(name="修护精华", unit_price=Decimal("299"), sku="ESS")
    with django_capture_on_commit_callbacks(execute=True):
        for n, ago in enumerate((58, 28)):
            ingest_orders.order_upsert(
                channel=Channel.MP,
                order_no=f"NO{n}",
                identities=who,
                data=ingest.OrderData(paid_at=days_ago(ago), amount=Decimal("299"), lines=(line,)),
            )
    with django_capture_on_commit_callbacks(execute=True):
        ingest.event_ingest(
            source="mp",
            source_id="cart-1",
            kind=EventKind.ADD_TO_CART,
            occurred_at=NOW - dt.timedelta(hours=1),
            channel=Channel.MP,
            identities=who,
            payload={"sku": "ESS", "name": "修护精华", "price": "299"},
        )
    incremental = _snapshot()
    assert sorted(row[0] for row in incremental) == ["intent", "replenish", "repurchase"]
    ReminderItem.objects.all().delete()
    reminders_refresh_all(now=NOW)
    assert _snapshot() == incremental

    # The guide writes a note: it reaches the customer, so the live items are done; its own follow-up
    # is due today. A nightly pass afterwards changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        note_create(customer=customer, staff=guide, body="问问用得怎么样", next_contact_on=TODAY)
    states = dict(ReminderItem.objects.values_list("kind", "state"))
    assert states == {"intent": "done", "replenish": "done", "repurchase": "done", "follow_up": "open"}
    before = _all()
    reminders_refresh_all(now=NOW)
    assert _all() == before


def test_a_material_sent_through_the_sidebar_flow_completes_the_item(fixed_clock, guide, served):
    material = MaterialFactory(title="生日祝福")
    customer = served(name="王女士", birthday=TODAY)
    reminders_refresh_all(now=NOW)
    prepared = material_send_prepare(material=material, customer=customer, staff=guide)
    material_send_record(request_id=prepared.request_id, customer=customer, staff=guide, status="sent")
    item = ReminderItem.objects.get(customer=customer)
    assert (item.state, item.done_via, item.material_id) == ("done", "material", material.pk)


def _all():
    return sorted(
        (i.kind, i.customer_id, i.staff_id, i.occurrence, i.state, i.done_via, i.closed_at)
        for i in ReminderItem.objects.all()
    )
