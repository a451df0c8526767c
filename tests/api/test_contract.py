"""The API answers what its schema says: JSON everywhere under /api/, one error shape, every status documented."""

import re

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from scrm.api.auth import ApiKeyRateThrottle
from scrm.api.services import api_key_create
from tests.api.conftest import KeyClient, error_fields

pytestmark = pytest.mark.django_db


def _assert_error_json(response, status: int):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"code", "message", "errors"} and body["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]  # said in Chinese
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/materials/null,null/"),
        ("get", "/api/v1/nope"),
        ("post", "/api/v1/nope/"),
        ("delete", "/api/"),
        ("get", "/api/v2/materials/"),
        ("get", "/api/v1/materials"),  # without the slash
        ("get", "/api/v1/materials/a%0Ab/"),  # a newline in the path
    ],
)
def test_every_unknown_api_path_answers_json_404(reader, method, path):
    response = getattr(reader.client, method)(path, **reader.headers)
    body = _assert_error_json(response, 404)
    assert body["code"] == "not_found"


def test_an_unknown_material_is_a_json_404(reader):
    assert _assert_error_json(reader.get("/api/v1/materials/999999/"), 404)["code"] == "not_found"


def test_a_method_the_endpoint_lacks_is_a_json_405(writer):
    response = writer.client.delete("/api/v1/events", **writer.headers)
    assert _assert_error_json(response, 405)["code"] == "method_not_allowed"
    assert response["Allow"]


def test_a_body_that_is_not_json_is_a_json_415(writer):
    response = writer.client.post("/api/v1/events", data="source=mp", content_type="text/plain", **writer.headers)
    assert _assert_error_json(response, 415)["code"] == "unsupported_media_type"


def test_asking_for_html_is_a_json_406(reader):
    response = reader.get("/api/v1/materials/", HTTP_ACCEPT="text/html")
    assert _assert_error_json(response, 406)["code"] == "not_acceptable"


def test_no_key_is_a_json_401_and_a_read_key_writing_a_json_403(client, reader):
    _assert_error_json(client.get("/api/v1/materials/"), 401)
    _assert_error_json(reader.post("/api/v1/events", {"source": "mp", "events": []}), 403)


def test_a_server_error_under_api_is_json(writer, settings, monkeypatch):
    settings.DEBUG = False

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("scrm.customers.ingest.customer_upsert_from_api", broken)
    client = Client(raise_request_exception=False)
    response = client.post(
        "/api/v1/customers/identify",
        data={"identities": {"unionid": "oU1"}},
        content_type="application/json",
        **writer.headers,
    )
    assert _assert_error_json(response, 500)["code"] == "server_error"


def test_a_client_over_its_rate_is_told_when_to_retry_and_others_are_not_slowed(client, reader, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    assert [reader.get("/api/v1/materials/").status_code for _ in range(2)] == [200, 200]
    throttled = reader.get("/api/v1/materials/")
    assert _assert_error_json(throttled, 429)["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    other = KeyClient(client, api_key_create(name="POS", scope="read")[1])
    assert other.get("/api/v1/materials/").status_code == 200


def test_a_rule_the_schema_cannot_state_is_a_422_with_a_machine_code(writer):
    response = writer.post(
        "/api/v1/customers/identify", {"identities": {"unionid": "oU1"}, "profile": {"store_code": "NOPE"}}
    )
    body = _assert_error_json(response, 422)
    assert body["code"] == "unprocessable" and "NOPE" in error_fields(response)["store_code"][0]


def test_nested_errors_name_their_place(writer):
    response = writer.put(
        "/api/v1/orders/mp/MP1",
        {
            "identities": {"phone": "12345"},
            "paid_at": "2026-11-01T15:30:00+08:00",
            "amount": "10.00",
            "lines": [{"name": "口红", "unit_price": "1.00"}, {"name": "", "unit_price": 3}],
        },
    )
    _assert_error_json(response, 400)
    fields = error_fields(response)
    assert {"identities.phone", "lines.1.name", "lines.1.unit_price"} <= set(fields)


@pytest.fixture
def schema(tmp_path) -> dict:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--file", str(target))
    return yaml.safe_load(target.read_text())


def test_every_operation_documents_its_error_answers(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert {"401", "403", "406", "429"} <= documented, (method, path)
            if method in ("post", "put"):
                assert {"400", "415", "422"} <= documented, (method, path)
            if "{" in path:
                assert "404" in documented, (method, path)
    assert schema["components"]["schemas"]["ApiError"]["required"] == ["code", "message", "errors"]


def test_answers_link_to_the_operations_that_take_their_ids(schema):
    identify = schema["paths"]["/api/v1/customers/identify"]["post"]["responses"]["201"]
    link = identify["links"]["ReadPortrait"]
    assert link == {"operationId": "customers_retrieve", "parameters": {"customer_id": "$response.body#/id"}}
    operation_ids = {op["operationId"] for ops in schema["paths"].values() for op in ops.values()}
    for ops in schema["paths"].values():
        for op in ops.values():
            for response in op["responses"].values():
                assert all(target["operationId"] in operation_ids for target in response.get("links", {}).values())


def test_the_schema_states_what_validation_checks(schema):
    components = schema["components"]["schemas"]
    identities = components["Identities"]
    assert identities["additionalProperties"] is False and identities["minProperties"] == 1
    assert identities["properties"]["phone"]["pattern"].startswith("^")
    order = components["Order"]["properties"]
    assert order["amount"]["type"] == "string" and order["amount"]["pattern"]
    assert "OrderStatusEnum" in str(order["status"])
    material = components["Material"]["properties"]
    assert material["cover_url"]["nullable"] is True and material["category"]["nullable"] is True
    assert "format" not in material["link_url"]  # "" when the material is no link
    out = components["OrderOut"]["properties"]
    assert out["store_code"]["nullable"] is True and out["staff_userid"]["nullable"] is True


def test_the_guide_names_every_event_kind_and_identity_kind(schema):
    from scrm.api.ingest import EVENT_KINDS
    from scrm.customers.models import IdentityKind

    guide = schema["info"]["description"]
    assert "## 认证" in guide and "## 限流" in guide and "## 版本规则" in guide and "## 更新记录" in guide
    assert all(f"`{kind}`" in guide for kind in EVENT_KINDS)
    assert all(f"`{kind}`" in guide for kind in IdentityKind.values)


def test_schema_and_docs_need_a_key_or_an_admin(client, reader, admin_staff):
    assert client.get("/api/v1/schema/").status_code == 401
    assert client.get("/api/v1/docs/")["Location"].startswith("/admin/login/?next=/api/v1/docs/")
    assert reader.get("/api/v1/schema/").status_code == 200
    client.force_login(admin_staff.user)
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


def test_the_schema_steers_clients_to_values_the_rules_accept(schema):
    """Generated clients (and schemathesis) read these: a year the API accepts, an id that names someone."""
    item = schema["components"]["schemas"]["EventItem"]["properties"]
    assert (
        item["occurred_at"]["pattern"].startswith("^(?:2000|")
        and str(timezone.localdate().year) in item["occurred_at"]["pattern"]
    )
    unionid = schema["components"]["schemas"]["Identities"]["properties"]["unionid"]["pattern"]
    assert re.fullmatch(unionid, "oU1") and not re.fullmatch(unionid, "0") and not re.fullmatch(unionid, "-")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/materials/{}/", "/api/v1/customers/{}"])
@pytest.mark.parametrize("bad", ["999999", "abc", "-1", "1.5", "%00"])
def test_a_detail_read_of_an_unknown_or_malformed_id_is_a_404(reader, path, bad):
    """The contract run pins these ids to real rows (schemathesis.toml), so the suite covers the rest."""
    response = reader.get(path.format(bad))
    assert response.status_code == 404
