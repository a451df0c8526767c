"""Unicode that schema fuzzing never sends: lone surrogates, NUL, bidi and zero-width marks, 4-byte
characters, combining marks — in every string field of every operation. Each is a clear 4xx or is
stored and reads back; never a 500, never a body that is not JSON."""

import copy
import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

EDGES = ["\ud800", "\udfff", "\x00", "\u202e", "\u200f", "\u200b", "\ufeff", "😀", "𠀀", "e\u0301", "\r\n", " ", "０"]
edge_text = st.lists(st.one_of(st.sampled_from(EDGES), st.characters()), max_size=12).map("".join)
# What can travel in a URL: UTF-8 cannot encode a lone surrogate, so no client can send one there.
url_text = edge_text.map(lambda text: "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF))
FUZZ = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

EVENT = {
    "source": "mp",
    "events": [
        {
            "id": "ev-1",
            "kind": "mp_visit",
            "occurred_at": "2026-11-01T20:15:00+08:00",
            "channel": "mp",
            "identities": {"mp_openid": "oMP1"},
            "title": "访问",
            "payload": {"page": "首页"},
            "staff_userid": "",
        }
    ],
}
IDENTIFY = {
    "identities": {"unionid": "oU1", "mp_openid": "oMP1", "tmall": "tb1"},
    "profile": {"name": "王", "store_code": ""},
    "channel": "mp",
}
ORDER = {
    "identities": {"tmall": "tb1"},
    "paid_at": "2026-11-01T15:30:00+08:00",
    "amount": "10.00",
    "store_code": "",
    "staff_userid": "",
    "carrier": "顺丰",
    "waybill": "SF1",
    "refund_reason": "",
    "status": "paid",
    "lines": [{"sku": "S1", "name": "口红", "unit_price": "10.00"}],
}
PRODUCT = {"name": "口红", "category": "彩妆", "image_url": "", "mp_appid": "", "mp_page": ""}


def _set(body: dict, path: str, value: str) -> dict:
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    target = body
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[last] = value
    return body


def _post(writer, method: str, url: str, body: dict):
    # ensure_ascii escapes lone surrogates as \ud800, as a JSON client would send them.
    data = json.dumps(body)
    return getattr(writer.client, method)(url, data=data, content_type="application/json", **writer.headers)


def _assert_answered(response):
    assert response.status_code < 500, response.content
    body = response.json()  # always JSON
    json.dumps(body, ensure_ascii=False).encode()  # and encodable: no surrogate echoed back
    return body


@FUZZ
@given(
    path=st.sampled_from(
        [
            "source",
            "events.0.id",
            "events.0.kind",
            "events.0.channel",
            "events.0.title",
            "events.0.staff_userid",
            "events.0.occurred_at",
            "events.0.identities.mp_openid",
            "events.0.payload.page",
        ]
    ),
    value=edge_text,
)
def test_events(writer, path, value):
    _assert_answered(_post(writer, "post", "/api/v1/events", _set(EVENT, path, value)))


@FUZZ
@given(key=edge_text, value=edge_text)
def test_event_payload_keys_and_values(writer, key, value):
    body = copy.deepcopy(EVENT)
    body["events"][0]["payload"] = {key: value}
    _assert_answered(_post(writer, "post", "/api/v1/events", body))


@FUZZ
@given(
    path=st.sampled_from(
        [
            "identities.unionid",
            "identities.mp_openid",
            "identities.tmall",
            "profile.name",
            "profile.store_code",
            "channel",
        ]
    ),
    value=edge_text,
)
def test_identify_and_read_back(writer, path, value):
    body = _assert_answered(_post(writer, "post", "/api/v1/customers/identify", _set(IDENTIFY, path, value)))
    if "id" in body:
        _assert_answered(writer.get(f"/api/v1/customers/{body['id']}"))


@FUZZ
@given(
    path=st.sampled_from(
        [
            "identities.tmall",
            "lines.0.name",
            "lines.0.sku",
            "carrier",
            "waybill",
            "refund_reason",
            "store_code",
            "staff_userid",
            "status",
            "amount",
            "paid_at",
        ]
    ),
    value=edge_text,
    order_no=url_text,
)
def test_orders(writer, path, value, order_no):
    url = f"/api/v1/orders/mp/{quote(order_no, safe='') or 'X'}"
    _assert_answered(_post(writer, "put", url, _set(ORDER, path, value)))


@FUZZ
@given(path=st.sampled_from(["name", "category", "image_url", "mp_page", "mp_appid"]), value=edge_text, sku=url_text)
def test_products(writer, path, value, sku):
    url = f"/api/v1/products/{quote(sku, safe='') or 'X'}"
    _assert_answered(_post(writer, "put", url, _set(PRODUCT, path, value)))


@FUZZ
@given(
    param=st.sampled_from(["q", "kind", "status", "category", "updated_since", "cursor", "page_size"]), value=url_text
)
def test_material_filters(reader, param, value):
    _assert_answered(reader.get(f"/api/v1/materials/?{param}={quote(value, safe='')}"))
