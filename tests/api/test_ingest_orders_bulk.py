"""POST /api/v1/orders (#12): up to 1,000 orders at once, each as the single-order PUT handles it, and each
touched customer's figures refreshed once after the batch."""

import pytest

from scrm.customers.models import Customer, Order

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders"
PAID = "2026-11-01T15:30:00+08:00"


def order(n, buyer="M1", **overrides):
    return {
        "channel": "pos",
        "order_no": f"P{n}",
        "identities": {"pos_member": buyer},
        "paid_at": PAID,
        "amount": "100.00",
        **overrides,
    }


def test_a_batch_stores_every_valid_order_and_reports_each(writer):
    batch = [
        order(1),
        order(2, buyer="M2"),
        order(3, amount="-1"),
        order(4, channel="wecom"),
        order(5, status="refunded", refund_amount="1.00"),
    ]

    response = writer.post(URL, {"orders": batch})

    body = response.json()
    assert response.status_code == 200
    assert [r["status"] for r in body["results"]] == ["created", "created", "error", "error", "error"]
    assert body["summary"] == {"created": 2, "updated": 0, "unchanged": 0, "error": 3}
    assert body["results"][4]["errors"][0]["field"] == "refund_amount"
    assert set(Order.objects.values_list("order_no", flat=True)) == {"P1", "P2"}


def test_a_resent_batch_changes_nothing(writer):
    batch = [order(n, buyer=f"M{n % 3}") for n in range(30)]
    writer.post(URL, {"orders": batch})

    again = writer.post(URL, {"orders": batch}).json()

    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 30, "error": 0}
    assert Order.objects.count() == 30 and Customer.objects.count() == 3


def test_figures_are_refreshed_once_per_customer_after_the_batch(
    writer, monkeypatch, django_capture_on_commit_callbacks
):
    from scrm.customers import tasks

    refreshed = []
    monkeypatch.setattr(tasks.refresh_figures, "delay", refreshed.append)
    batch = [order(n, buyer=f"M{n % 3}") for n in range(60)]

    with django_capture_on_commit_callbacks(execute=True):
        writer.post(URL, {"orders": batch})

    assert sorted(refreshed) == sorted(Customer.objects.values_list("pk", flat=True))


def test_a_batch_where_every_order_breaks_a_rule_is_a_422_with_every_error(writer):
    response = writer.post(URL, {"orders": [order(1, status="paid", refund_amount="10.00")]})

    assert response.status_code == 422
    assert response.json()["results"][0]["status"] == "error"


def test_more_than_1000_orders_is_a_400(writer):
    response = writer.post(URL, {"orders": [order(n) for n in range(1001)]})

    assert response.status_code == 400
    assert not Order.objects.exists()
