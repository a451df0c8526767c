"""POST /api/v1/events: batches of behaviour events, stored once per source id, per-item results."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scrm.customers.models import Customer, Event, Identity
from tests.api.conftest import error_fields
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


def item(n, **overrides):
    return {
        "id": f"ev-{n}",
        "kind": "mp_product_view",
        "occurred_at": "2026-11-01T20:15:00+08:00",
        "channel": "mp",
        "identities": {"mp_openid": "oMP_VIEWER"},
        "payload": {"product": "修护精华液 30ml", "sku": "SKU001"},
        **overrides,
    }


def post(writer, events, source="mp"):
    return writer.post(URL, {"source": source, "events": events})


def item_errors(result) -> dict[str, list[str]]:
    """{field: [messages]} of one item's result."""
    fields: dict[str, list[str]] = {}
    for error in result["errors"]:
        fields.setdefault(error["field"].split(".")[0], []).append(error["message"])
    return fields


def test_batch_stores_valid_items_and_reports_each(writer):
    events = [
        item(1),
        item(2, kind="teleport"),
        item(3, kind="add_to_cart", title="加购了口红"),
        item(4, occurred_at="2026-11-01T20:15:00"),
        "not an object",
    ]
    response = post(writer, events)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["summary"] == {"created": 2, "duplicate": 0, "error": 3}
    by_index = {row["index"]: row for row in body["results"]}
    assert by_index[0]["status"] == "created" and by_index[2]["status"] == "created"
    assert "teleport" in item_errors(by_index[1])["kind"][0]
    assert "时区" in item_errors(by_index[3])["occurred_at"][0]
    assert by_index[4]["status"] == "error"

    stored = Event.objects.order_by("id")
    assert [e.dedupe_key for e in stored] == ["api:mp:ev-1", "api:mp:ev-3"]
    assert stored[0].title == "浏览了 修护精华液 30ml"
    assert stored[1].title == "加购了口红"
    assert stored[0].payload["sku"] == "SKU001" and stored[0].payload["schema"] == 1
    assert {e.customer_id for e in stored} == {Customer.objects.get().pk}


def test_resending_a_batch_stores_nothing_twice(writer):
    assert post(writer, [item(1), item(2)]).json()["summary"]["created"] == 2
    again = post(writer, [item(1), item(2), item(3)])
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate", "created"]
    assert Event.objects.count() == 3


def test_duplicate_inside_one_batch(writer):
    response = post(writer, [item(1), item(1)])
    assert [r["status"] for r in response.json()["results"]] == ["created", "duplicate"]
    assert Event.objects.count() == 1


def test_same_id_from_another_source_is_another_event(writer):
    post(writer, [item(1)], source="mp")
    post(writer, [item(1)], source="pos")
    assert set(Event.objects.values_list("dedupe_key", flat=True)) == {"api:mp:ev-1", "api:pos:ev-1"}


def test_all_invalid_is_a_400_with_results(writer):
    response = post(writer, [item(1, kind="nope"), item(2, channel="fax")])
    assert response.status_code == 400
    assert response.json()["summary"] == {"created": 0, "duplicate": 0, "error": 2}
    assert "channel" in item_errors(response.json()["results"][1])
    # The one error shape too, each item's errors named by its place in the batch.
    assert {"events.0.kind", "events.1.channel"} <= set(error_fields(response))
    assert Event.objects.count() == 0


def test_order_kinds_go_through_the_order_endpoint(writer):
    response = post(writer, [item(1, kind="order_paid")])
    assert response.status_code == 400
    assert "/api/v1/orders/" in item_errors(response.json()["results"][0])["kind"][0]


def test_a_batch_refused_only_by_rules_is_a_422(writer):
    response = post(writer, [item(1, staff_userid="ghost"), item(2, identities={"mp_openid": "null"})])
    assert response.status_code == 422 and response.json()["code"] == "unprocessable"
    assert set(error_fields(response)) >= {"events.0.staff_userid", "events.1.identities.mp_openid"}
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": []}, "source"),
        ({"source": "mp", "events": []}, "events"),
        ({"source": "m p", "events": [item(1)]}, "source"),
        ({"source": "mp", "events": "x"}, "events"),
        ({"source": "mp", "events": [item(i) for i in range(1001)]}, "events"),
    ],
)
def test_bad_envelope_is_a_400(writer, body, field):
    response = writer.post(URL, body)
    assert response.status_code == 400
    assert field in error_fields(response)
    assert Event.objects.count() == 0


def test_a_full_batch_of_1000_is_accepted(writer):
    response = post(writer, [item(i, identities={"mp_openid": f"oMP{i % 50}"}) for i in range(1000)])
    assert response.status_code == 200
    assert response.json()["summary"]["created"] == 1000
    assert Customer.objects.count() == 50


def test_a_resent_batch_is_answered_without_a_query_per_item(writer, django_assert_max_num_queries):
    batch = [item(i, identities={"mp_openid": f"oMP{i % 5}"}) for i in range(100)]
    assert post(writer, batch).json()["summary"]["created"] == 100
    with django_assert_max_num_queries(5):  # the key, its last use, the known events
        again = post(writer, batch)
    assert again.json()["summary"] == {"created": 0, "duplicate": 100, "error": 0}
    assert {r["customer_id"] for r in again.json()["results"]} == set(Customer.objects.values_list("id", flat=True))


def test_a_customer_met_again_in_a_batch_is_resolved_once(writer):
    with CaptureQueriesContext(connection) as one:
        post(writer, [item(1, identities={"mp_openid": "oB", "unionid": "uB"})])
    with CaptureQueriesContext(connection) as ten:
        post(writer, [item(10 + i, identities={"mp_openid": "oC", "unionid": "uC"}) for i in range(10)])
    # Nine more events of the same customer cost their own insert (~7 queries with savepoints), not
    # nine more identity resolutions (~10 each).
    assert len(ten) - len(one) <= 9 * 7
    assert Customer.objects.count() == 2 and Event.objects.count() == 11


def test_events_link_identities_to_one_customer(writer):
    post(writer, [item(1, identities={"mp_openid": "oMP1", "unionid": "oU1"})])
    post(writer, [item(2, kind="oa_article_read", channel="oa", identities={"oa_openid": "oOA1", "unionid": "oU1"})])
    assert Customer.objects.count() == 1
    assert set(Identity.objects.values_list("kind", flat=True)) == {"mp_openid", "unionid", "oa_openid"}


def test_default_titles_per_kind(writer):
    post(
        writer,
        [
            item(1, kind="mp_visit", payload={"page": "会员中心"}),
            item(2, kind="oa_article_read", channel="oa", payload={"article": "秋冬护肤指南"}),
            item(3, kind="store_visit", channel="pos", payload={}),
        ],
    )
    titles = list(Event.objects.order_by("id").values_list("title", flat=True))
    assert titles == ["访问小程序「会员中心」", "阅读公众号文章《秋冬护肤指南》", "到店"]


def test_staff_userid_links_the_guide(writer):
    guide = StaffFactory(userid="zhangsan")
    response = post(writer, [item(1, staff_userid="zhangsan"), item(2, staff_userid="ghost")])
    results = response.json()["results"]
    assert results[0]["status"] == "created"
    assert "ghost" in item_errors(results[1])["staff_userid"][0]
    assert Event.objects.get().staff == guide


def test_phone_in_identities_or_payload_is_never_stored_in_clear(writer):
    post(writer, [item(1, identities={"phone": "13912345678"}, payload={"product": "口红", "mobile": "13912345678"})])
    event = Event.objects.get()
    assert "13912345678" not in str(event.payload)
    assert event.payload["mobile"] == "139****5678"
    assert not Identity.objects.filter(value__contains="13912345678").exists()


def test_payload_must_be_an_object_and_small(writer):
    response = post(writer, [item(1, payload=["a"]), item(2, payload={"x": "长" * 6000})])
    assert [list(item_errors(r)) for r in response.json()["results"]] == [["payload"], ["payload"]]
