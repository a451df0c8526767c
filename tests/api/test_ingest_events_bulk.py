"""POST /api/v1/events at brand scale (#12): a batch is resolved set-wise, with a fixed number of
statements however many items it holds, and answers exactly as the one-by-one path would."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scrm.customers.models import Customer, Event, Identity
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


def item(n, **overrides):
    return {
        "id": f"ev-{n}",
        "kind": "mp_product_view",
        "occurred_at": "2026-11-01T20:15:00+08:00",
        "channel": "mp",
        "identities": {"mp_openid": f"oMP{n}"},
        "payload": {"product": "修护精华液 30ml", "phone": "13800138000"},
        **overrides,
    }


def post(writer, events, source="mp"):
    return writer.post(URL, {"source": source, "events": events})


def test_a_batch_costs_the_same_statements_for_ten_items_or_a_thousand(writer):
    # 90% known people, 10% new: the brand-scale mix.
    post(writer, [item(i, id=f"seed-{i}") for i in range(900)])
    with CaptureQueriesContext(connection) as ten:
        post(writer, [item(i, id=f"a-{i}") for i in range(9)] + [item(5000)])
    with CaptureQueriesContext(connection) as thousand:
        response = post(writer, [item(i % 900, id=f"b-{i}") for i in range(900)] + [item(6000 + i) for i in range(100)])

    assert response.json()["summary"] == {"created": 1000, "duplicate": 0, "error": 0}
    # SQLite splits a bulk INSERT by its parameter limit (a couple more statements); PostgreSQL does not.
    assert len(thousand) <= len(ten) + 3 and len(ten) <= 12
    assert Customer.objects.count() == 1001 and Event.objects.count() == 1910


def test_bulk_items_are_stored_as_the_careful_path_stores_them(writer):
    guide = StaffFactory()
    body = item(1, identities={"mp_openid": "oMPnew", "phone": "138 0013 8000"}, staff_userid=guide.userid)

    result = post(writer, [body]).json()["results"][0]

    event = Event.objects.get()
    customer = Customer.objects.get()
    assert result == {"index": 0, "id": "ev-1", "status": "created", "event_id": event.pk, "customer_id": customer.pk}
    assert event.title == "浏览了 修护精华液 30ml" and event.staff_id == guide.pk
    assert event.payload["phone"] == "138****8000" and event.payload["api_id"] == "ev-1"
    assert customer.phone_masked == "138****8000" and customer.source == "mp"
    assert set(Identity.objects.values_list("kind", "source")) == {("mp_openid", "api:小程序"), ("phone", "api:小程序")}
    assert event.via_identity_id == Identity.objects.get(kind="mp_openid").pk


def test_one_new_person_named_throughout_a_batch_is_created_once_and_a_repeated_id_is_a_duplicate(writer):
    batch = [item(i, identities={"unionid": "oUnionNEW"}) for i in range(5)] + [
        item(0, identities={"unionid": "oUnionNEW"})
    ]

    results = post(writer, batch).json()["results"]

    assert [r["status"] for r in results] == ["created"] * 5 + ["duplicate"]
    assert results[5]["event_id"] == results[0]["event_id"]
    assert Customer.objects.count() == 1 and Event.objects.count() == 5


def test_items_that_join_people_still_merge_and_everyone_is_answered_with_the_survivor(writer):
    post(writer, [item(0, identities={"jd": "JD-A"})], source="jd")
    batch = [
        item(1, identities={"mp_openid": "oNEW"}),
        item(2, identities={"unionid": "oUnionB"}),
        item(3, identities={"mp_openid": "oNEW", "jd": "JD-A"}),
        item(4, identities={"jd": "JD-A"}),
    ]

    results = post(writer, batch).json()["results"]

    jd_customer = Identity.objects.get(value="JD-A").customer_id
    assert Identity.objects.get(value="oNEW").customer_id == jd_customer
    assert [r["customer_id"] == jd_customer for r in results] == [True, False, True, True]
    assert Customer.objects.filter(merged_into__isnull=True).count() == 2
