"""The order's domain rules, checked in one place (scrm.customers.ingest._order_errors): a table of orders
and the fields each one is refused on."""

import datetime as dt
from decimal import Decimal

import pytest

from scrm.customers.ingest import LineData, OrderData, _order_errors

PAID = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
NAIVE = dt.datetime(2026, 11, 1, 12, 0)


def order(**overrides) -> OrderData:
    return OrderData(**{"paid_at": PAID, "amount": Decimal("100.00"), **overrides})


@pytest.mark.parametrize(
    ("channel", "order_no", "data", "fields"),
    [
        ("tmall", "A1", order(), set()),
        ("pos", "A:1", order(status="partially_refunded", refund_amount=Decimal("30")), set()),
        ("jd", "A1", order(status="refunded"), set()),  # a full refund may leave the amount out
        ("wecom", "A1", order(), {"channel"}),
        ("system", "A1", order(), {"channel"}),
        ("nowhere", "A1", order(), {"channel"}),
        ("tmall", " ", order(), {"order_no"}),
        ("tmall", "A" * 65, order(), {"order_no"}),
        ("tmall", "A\x001", order(), {"order_no"}),
        ("tmall", "A1", order(status="lost"), {"status"}),
        ("tmall", "A1", order(paid_at=NAIVE), {"paid_at"}),
        ("tmall", "A1", order(shipped_at=NAIVE, refunded_at=NAIVE), {"shipped_at", "refunded_at"}),
        ("tmall", "A1", order(amount=Decimal("-1")), {"amount", "refund_amount"}),
        ("tmall", "A1", order(refund_amount=Decimal("101")), {"refund_amount"}),
        ("tmall", "A1", order(status="refunded", refund_amount=Decimal("50")), {"refund_amount"}),
        ("tmall", "A1", order(status="partially_refunded", refund_amount=Decimal("100")), {"refund_amount"}),
        ("tmall", "A1", order(status="paid", refund_amount=Decimal("10")), {"status"}),
        ("tmall", "A1", order(lines=(LineData(name="x", unit_price=Decimal("9999999999"), quantity=2),)), {"lines"}),
        ("wecom", "", order(status="lost", paid_at=NAIVE), {"channel", "order_no", "status", "paid_at"}),
    ],
)
def test_order_errors_name_every_broken_field(channel, order_no, data, fields):
    errors = _order_errors(channel=channel, order_no=order_no, data=data)
    assert set(errors) == fields
    assert all(isinstance(message, str) and message for message in errors.values())


def test_an_unknown_status_is_reported_as_such_not_as_a_refund_mismatch():
    errors = _order_errors(channel="tmall", order_no="A1", data=order(status="lost", refund_amount=Decimal("5")))
    assert "lost" in errors["status"]
