"""Bad or inconsistent input found by a review: each is a clear 4xx, never a 500 or wrong data."""

import base64
import json

import pytest
from django.test import Client

from scrm.customers.models import Customer, Event, Order
from tests.api.conftest import error_fields

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events"
ORDER = "/api/v1/orders/tmall/TM001"


def event(n, **overrides):
    return {
        "id": f"ev-{n}",
        "kind": "mp_visit",
        "occurred_at": "2026-11-01T20:15:00+08:00",
        "channel": "mp",
        "identities": {"mp_openid": "oMP"},
        **overrides,
    }


def order(**overrides):
    return {
        "identities": {"tmall": "tm-buyer"},
        "paid_at": "2026-11-01T15:30:00+08:00",
        "amount": "598.00",
        **overrides,
    }


def errors_of(response, index=0):
    """{field: [messages]} of one item's result."""
    fields: dict[str, list[str]] = {}
    for error in response.json()["results"][index]["errors"]:
        fields.setdefault(error["field"].split(".")[0], []).append(error["message"])
    return fields


def test_a_kind_that_is_not_a_string_is_an_item_error(writer):
    response = writer.post(EVENTS, {"source": "mp", "events": [event(1, kind=["mp_visit"]), event(2)]})
    assert response.status_code == 200
    assert "kind" in errors_of(response)
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"note": "a\x00b"}, "NUL"),
        ({"a\x00": 1}, "NUL"),
        ({"deep": json.loads("[" * 40 + "]" * 40)}, "嵌套"),
    ],
)
def test_payloads_that_cannot_be_stored_are_refused_with_the_reason(writer, payload, message):
    response = writer.post(EVENTS, {"source": "mp", "events": [event(1, payload=payload)]})
    assert response.status_code == 422  # valid JSON the schema allows, but storage refuses it
    assert message in str(errors_of(response)["payload"])
    assert not Event.objects.exists()


def test_the_senders_own_source_key_is_kept(writer):
    writer.post(EVENTS, {"source": "mp", "events": [event(1, payload={"source": "朋友圈广告"})]})
    payload = Event.objects.get().payload
    assert payload["source"] == "朋友圈广告"
    assert (payload["api_source"], payload["api_id"]) == ("mp", "ev-1")


def test_broken_or_absurdly_nested_json_is_a_400_in_chinese(client, write_key):
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {write_key[1]}"}
    broken = client.post(EVENTS, data="{'source': 1}", content_type="application/json", **headers)
    assert broken.status_code == 400 and "不是合法的 JSON" in broken.json()["message"]
    nested = client.post(EVENTS, data="[" * 5000 + "]" * 5000, content_type="application/json", **headers)
    assert nested.status_code == 400 and "嵌套" in nested.json()["message"]


def test_a_customer_merged_away_inside_a_batch_gets_no_more_events(writer):
    writer.post(EVENTS, {"source": "jd", "events": [event(0, channel="jd", identities={"jd": "JD-A"})]})
    batch = [
        event(1, identities={"mp_openid": "NEW"}),
        event(2, identities={"mp_openid": "NEW", "jd": "JD-A"}),  # proves NEW is the JD customer: a merge
        event(3, identities={"mp_openid": "NEW"}),
    ]
    results = writer.post(EVENTS, {"source": "mp", "events": batch}).json()["results"]

    survivor = Customer.objects.get(merged_into__isnull=True)
    assert {r["customer_id"] for r in results[1:]} == {survivor.pk}
    assert set(Event.objects.values_list("customer_id", flat=True)) == {survivor.pk}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (order(status="refunded", refund_amount="1.00"), "refund_amount"),
        (order(status="partially_refunded", refund_amount="0.00"), "refund_amount"),
        (order(status="partially_refunded", refund_amount="598.00"), "refund_amount"),
        (order(status="paid", refund_amount="100.00"), "status"),
    ],
)
def test_status_and_refund_must_agree(writer, body, field):
    response = writer.put(ORDER, body)
    assert response.status_code == 422 and field in error_fields(response)
    assert not Order.objects.exists()


def test_a_full_refund_without_an_amount_refunds_everything(writer):
    response = writer.put(ORDER, order(status="refunded"))
    assert response.status_code == 201 and response.json()["order"]["refund_amount"] == "598.00"


def test_an_update_cannot_leave_the_refund_above_the_amount(writer):
    assert writer.put(ORDER, order(status="partially_refunded", refund_amount="100.00")).status_code == 201
    response = writer.put(ORDER, order(amount="50.00", status="partially_refunded", refund_amount="10.00"))
    assert response.status_code == 422 and "已退款金额" in error_fields(response)["amount"][0]
    stored = Order.objects.get()
    assert (stored.amount, stored.refund_amount) == (598, 100)


@pytest.mark.parametrize("order_no", ["A%00B", "%20"])
def test_order_numbers_with_nul_or_only_spaces_are_refused(writer, order_no):
    response = writer.put(f"/api/v1/orders/tmall/{order_no}", order())
    assert response.status_code == 400 and "order_no" in error_fields(response)


def test_materials_are_readable_with_a_read_key(reader):
    assert reader.get("/api/v1/materials/").status_code == 200


def test_a_tampered_materials_cursor_is_a_404_not_a_500(reader):
    cursor = base64.b64encode(b"p=notadate&r=0").decode()
    response = reader.get(f"/api/v1/materials/?cursor={cursor}")
    assert response.status_code == 404 and "游标" in response.json()["message"]


def test_messages_drf_leaves_in_english_are_chinese(writer, reader, admin_staff):
    empty = writer.post(EVENTS, "null")
    assert empty.status_code == 400 and "请求体为空" in str(empty.json())
    missing = reader.get("/api/v1/materials/999999/")
    assert missing.status_code == 404 and missing.json()["message"] == "未找到。"
    nul = writer.post(EVENTS, {"source": "mp", "events": [event(1, id="a\x00b")]})
    assert "NUL" in str(errors_of(nul)["id"])
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_staff.user)
    csrf = strict.post(EVENTS, data="{}", content_type="application/json")
    assert csrf.status_code == 403 and "CSRF 校验失败" in csrf.json()["message"]


@pytest.mark.parametrize("paid_at", ["2099-01-01T10:00:00+08:00", "1900-01-01T10:00:00+08:00"])
def test_dates_far_outside_the_brands_life_are_refused(writer, paid_at):
    response = writer.put(ORDER, order(paid_at=paid_at))
    assert response.status_code == 422 and "2000" in error_fields(response)["paid_at"][0]


def test_an_absurd_amount_is_refused(writer):
    response = writer.put(ORDER, order(amount="9999999999.99"))
    assert response.status_code == 400 and "amount" in error_fields(response)


@pytest.mark.parametrize(
    "bad",
    [
        {"payload": {"note": "\udfff"}},
        {"payload": {"\ud800": 1}},
        {"id": "\ud800"},
        {"title": "a\udfffb"},
        {"identities": {"mp_openid": "o\ud800"}},
    ],
)
def test_a_lone_surrogate_rejects_only_its_item(writer, bad):
    response = writer.post(EVENTS, {"source": "mp", "events": [event(1), {**event(2), **bad}, event(3)]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "error", "created"]
    assert "\\u" in str(results[1]["errors"]) or "字符" in str(results[1]["errors"])


def test_an_item_stored_by_a_concurrent_delivery_is_a_duplicate_not_an_error(writer, monkeypatch):
    from scrm.customers import ingest
    from scrm.customers.models import Event

    # The same batch arrives twice at once; the other request stores item 1 and this one then loses
    # a deadlock on it.
    real = ingest.event_ingest

    def lose_to_the_other_delivery(**kwargs):
        real(**kwargs)
        raise RuntimeError("deadlock detected")

    monkeypatch.setattr(ingest, "event_ingest", lose_to_the_other_delivery)
    # A verified identity takes the one-by-one path (the bulk path answers races by ON CONFLICT).
    response = writer.post(EVENTS, {"source": "mp", "events": [event(1, verified=["mp_openid"])]})
    result = response.json()["results"][0]
    assert result["status"] == "duplicate" and result["event_id"] == Event.objects.get().pk
