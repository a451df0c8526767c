"""Every identity says where and when it arrived (#12): the API key that first sent it, first and last
seen, verified or not."""

import datetime as dt

import pytest
from django.utils import timezone

from scrm.customers.models import Identity

pytestmark = pytest.mark.django_db


def test_an_identity_records_the_key_that_sent_it_and_when_it_was_last_seen(writer):
    writer.post("/api/v1/customers/identify", {"identities": {"mp_openid": "oMP001", "phone": "13800138000"}})
    Identity.objects.update(last_seen_at=timezone.now() - dt.timedelta(days=3))
    before = timezone.now()

    writer.post("/api/v1/customers/identify", {"identities": {"mp_openid": "oMP001"}})

    mp = Identity.objects.get(kind="mp_openid")
    assert mp.source == "api:小程序" and mp.source_label == "API · 小程序"
    assert mp.last_seen_at >= before > mp.created_at
    phone = Identity.objects.get(kind="phone")
    assert phone.last_seen_at < before  # not in the second observation
    assert not phone.verified


def test_events_and_orders_record_their_key_too(writer):
    writer.post(
        "/api/v1/events",
        {
            "source": "mp",
            "events": [
                {
                    "id": "e1",
                    "kind": "mp_visit",
                    "occurred_at": "2026-11-01T08:00:00+08:00",
                    "channel": "mp",
                    "identities": {"unionid": "oUnion001"},
                }
            ],
        },
    )
    writer.put(
        "/api/v1/orders/tmall/T1",
        {"identities": {"tmall": "tb_buyer1"}, "paid_at": "2026-11-01T08:00:00+08:00", "amount": "10.00"},
    )

    assert set(Identity.objects.values_list("kind", "source")) == {("unionid", "api:小程序"), ("tmall", "api:小程序")}


def test_a_verified_phone_is_recorded_as_verified(writer):
    writer.post(
        "/api/v1/customers/identify",
        {"identities": {"unionid": "oUnion002", "phone": "13800138001"}, "verified": ["phone"]},
    )
    assert Identity.objects.get(kind="phone").verified
    assert not Identity.objects.get(kind="unionid").verified
