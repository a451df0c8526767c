"""Identify at brand scale (#12): a known person costs one read, a new one two inserts, and the short
paths answer exactly what the full resolution would."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scrm.customers import identity
from scrm.customers.identity import customer_resolve_detail
from scrm.customers.models import Customer, Identity

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/identify"
WHO = {"unionid": "oUnion001", "mp_openid": "oMP001"}


def test_a_known_person_is_one_read_and_answers_with_all_their_identities(writer):
    writer.post(URL, {"identities": {**WHO, "tmall": "tb_123"}})

    with CaptureQueriesContext(connection) as queries:
        body = writer.post(URL, {"identities": WHO}).json()

    customer = Customer.objects.get()
    assert body["id"] == customer.pk and body["outcome"] == "matched" and not body["created"]
    assert [row["kind"] for row in body["identities"]] == ["unionid", "mp_openid", "tmall"]
    assert len(queries) <= 2  # the API key, and the person with their identities


def test_a_new_person_is_created_with_two_inserts(writer):
    with CaptureQueriesContext(connection) as queries:
        response = writer.post(URL, {"identities": {**WHO, "phone": "13800138000"}})

    assert response.status_code == 201 and response.json()["outcome"] == "created"
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 2
    customer = Customer.objects.get()
    assert customer.phone_masked == "138****8000"
    assert list(Identity.objects.order_by("pk").values_list("kind", "customer_id", "source")) == [
        ("unionid", customer.pk, "api:小程序"),
        ("mp_openid", customer.pk, "api:小程序"),
        ("phone", customer.pk, "api:小程序"),
    ]


def test_last_seen_is_written_again_only_after_a_while(writer):
    writer.post(URL, {"identities": WHO})
    long_ago = timezone.now() - dt.timedelta(hours=2)
    Identity.objects.update(last_seen_at=long_ago)

    writer.post(URL, {"identities": WHO})
    seen = set(Identity.objects.values_list("last_seen_at", flat=True))
    writer.post(URL, {"identities": WHO})  # minutes later: not written again

    assert len(seen) == 1 and next(iter(seen)) > long_ago
    assert set(Identity.objects.values_list("last_seen_at", flat=True)) == seen


def test_a_known_person_whose_phone_is_now_verified_takes_the_full_path(writer):
    writer.post(URL, {"identities": {**WHO, "phone": "13800138000"}})

    writer.post(URL, {"identities": {**WHO, "phone": "13800138000"}, "verified": ["phone"]})

    assert Identity.objects.get(kind="phone").verified


def test_a_new_person_created_meanwhile_by_another_call_is_matched_not_duplicated(monkeypatch):
    rows = [("unionid", "oUnion001", "")]
    first = customer_resolve_detail(identities=rows, defaults={})
    # The read saw nobody; another call created them before this one's insert.
    monkeypatch.setattr(identity._Resolver, "named", lambda self: [])

    again = customer_resolve_detail(identities=rows, defaults={})

    assert again.customer.pk == first.customer.pk and not again.created
    assert Customer.objects.count() == 1 and Identity.objects.count() == 1
