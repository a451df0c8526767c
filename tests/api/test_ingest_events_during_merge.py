"""An event batch that arrives while a merge of its customer is still open lands on the survivor (#12).

PostgreSQL only (SQLite serialises writers):
DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/pytest tests/api/test_ingest_events_during_merge.py
"""

import threading
import time

import pytest
from django.db import connection, transaction

from scrm.customers.identity_merge import customer_merge
from scrm.customers.models import Event
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_an_event_batch_during_an_open_merge_lands_on_the_surviving_customer(writer):
    keep, drop = CustomerFactory(name="留下"), CustomerFactory(name="并入")
    IdentityFactory(customer=keep, kind="unionid", value="uKEEP")
    IdentityFactory(customer=drop, kind="mp_openid", value="oDROP")
    merging, errors = threading.Event(), []

    def merge():
        try:
            with transaction.atomic():
                customer_merge(keep=keep, drop=drop, reason="test")
                merging.set()
                time.sleep(1.0)  # the batch arrives while this merge is not yet committed
        except BaseException as exc:
            errors.append(exc)
            merging.set()
        finally:
            connection.close()

    thread = threading.Thread(target=merge)
    thread.start()
    merging.wait()
    response = writer.post(
        "/api/v1/events",
        {
            "source": "mp",
            "events": [
                {
                    "id": "ev-during-merge",
                    "kind": "mp_product_view",
                    "occurred_at": "2026-11-01T20:15:00+08:00",
                    "channel": "mp",
                    "identities": {"mp_openid": "oDROP"},
                    "payload": {"product": "修护精华液 30ml"},
                }
            ],
        },
    )
    thread.join()

    assert not errors
    assert response.status_code == 200, response.content
    result = response.json()["results"][0]
    assert result["status"] == "created" and result["customer_id"] == keep.pk
    assert Event.objects.get(payload__api_id="ev-during-merge").customer_id == keep.pk
