"""GET /api/v1/customers/<id>: the unified portrait for other systems."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scrm.customers.identity import customer_merge
from scrm.customers.services import customer_refresh_figures, phone_hash
from tests.factories import (
    CustomerFactory,
    CustomerTagFactory,
    FollowRelationFactory,
    IdentityFactory,
    OrderFactory,
    StaffFactory,
    StoreFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


def test_portrait_shows_masked_identities_figures_tags_and_guides(reader):
    store = StoreFactory(code="SH001", name="静安店")
    customer = CustomerFactory(name="王小姐", store=store, phone_masked="138****8000")
    IdentityFactory(customer=customer, kind="phone", value=phone_hash("13800138000"), display="138****8000")
    IdentityFactory(customer=customer, kind="unionid", value="oUNIONabcdefgh123")
    CustomerTagFactory(customer=customer, tag=TagFactory(name="敏感肌"))
    guide = StaffFactory(userid="zhangsan", name="张三")
    FollowRelationFactory(staff=guide, customer=customer)
    ended = FollowRelationFactory(customer=customer)
    ended.ended_at = ended.added_at
    ended.save()
    OrderFactory(customer=customer)
    customer_refresh_figures(customer_id=customer.pk)

    response = reader.get(f"/api/v1/customers/{customer.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "王小姐" and body["store"] == {"code": "SH001", "name": "静安店"}
    masked = {row["kind"]: row["masked"] for row in body["identities"] if row["kind"] != "wecom_external_userid"}
    assert masked == {"phone": "138****8000", "unionid": "oUNI…123"}
    assert "13800138000" not in response.content.decode() and "oUNIONabcdefgh123" not in response.content.decode()
    assert body["figures"]["order_count"] == 1 and body["figures"]["total_spend"] == "299.00"
    assert body["figures"]["lifecycle_stage"] == "new"
    assert body["tags"][0]["name"] == "敏感肌"
    assert [g["userid"] for g in body["guides"]] == ["zhangsan"]


def test_merged_id_answers_with_the_kept_customer(reader):
    keep = CustomerFactory()
    drop = CustomerFactory()
    customer_merge(keep=keep, drop=drop, reason="test")
    response = reader.get(f"/api/v1/customers/{drop.pk}")
    assert response.status_code == 200 and response.json()["id"] == keep.pk


def test_unknown_customer_is_404_in_chinese(reader):
    response = reader.get("/api/v1/customers/999999")
    assert response.status_code == 404 and response.json()["message"] == "客户不存在。"


def test_query_count_does_not_grow_with_data(reader):
    small = CustomerFactory()
    IdentityFactory(customer=small, kind="unionid")
    CustomerTagFactory(customer=small)
    FollowRelationFactory(customer=small)
    big = CustomerFactory()
    for _ in range(6):
        IdentityFactory(customer=big, kind="unionid")
        CustomerTagFactory(customer=big)
        FollowRelationFactory(customer=big)

    def count(customer):
        with CaptureQueriesContext(connection) as ctx:
            assert reader.get(f"/api/v1/customers/{customer.pk}").status_code == 200
        return len(ctx.captured_queries)

    count(small)  # the first request of a key also records its use
    assert count(small) == count(big)
