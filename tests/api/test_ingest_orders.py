"""PUT /api/v1/orders/<channel>/<order_no>: idempotent upsert, events once, figures, attribution."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from scrm.customers.models import Customer, Event, Order
from tests.api.conftest import error_fields
from tests.factories import CustomerFactory, FollowRelationFactory, IdentityFactory, StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/mp/MP20261101001"


@pytest.fixture
def put(writer, django_capture_on_commit_callbacks):
    """PUT an order and run its after-commit work (the figures refresh)."""

    def send(body, url=URL):
        with django_capture_on_commit_callbacks(execute=True):
            return writer.put(url, body)

    return send


def order_body(**overrides):
    return {
        "identities": {"mp_openid": "oMP_BUYER", "unionid": "oU_BUYER"},
        "paid_at": "2026-11-01T15:30:00+08:00",
        "amount": "598.00",
        "lines": [{"sku": "SKU001", "name": "修护精华液 30ml", "quantity": 2, "unit_price": "299.00"}],
        **overrides,
    }


def kinds():
    return sorted(Event.objects.values_list("kind", flat=True))


def test_create_records_order_paid_event_and_figures(put):
    response = put(order_body())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["result"] == "created" and body["events"] == ["order_paid"]
    assert body["order"]["amount"] == "598.00" and body["order"]["lines"][0]["amount"] == "598.00"

    order = Order.objects.get()
    assert order.lines.get().quantity == 2
    event = Event.objects.get()
    assert event.kind == "order_paid" and event.title == "在小程序下单 ¥598.00：修护精华液 30ml"
    assert event.occurred_at == order.paid_at
    customer = Customer.objects.get()
    assert customer.order_count == 1 and customer.total_spend == Decimal("598.00")
    assert customer.lifecycle_stage == "new"


def test_resending_the_same_order_changes_nothing(put):
    put(order_body())
    before = Order.objects.values().get()
    again = put(order_body())
    assert again.status_code == 200
    assert again.json() | {"order": None} == {"result": "unchanged", "changed": [], "events": [], "order": None}
    assert Order.objects.values().get() == before
    assert Order.objects.get().lines.count() == 1
    assert kinds() == ["order_paid"]


def test_ship_then_partial_then_full_refund_each_recorded_once(put):
    put(order_body())
    shipped = put(order_body(status="shipped", carrier="顺丰", waybill="SF1234567890"))
    assert shipped.json()["events"] == ["order_shipped"] and shipped.json()["changed"] == ["status"]
    assert put(order_body(status="shipped", carrier="顺丰", waybill="SF1234567890")).json()["result"] == "unchanged"

    partial = put(order_body(status="partially_refunded", refund_amount="299.00", refund_reason="不喜欢"))
    assert partial.json()["events"] == ["order_refunded"]
    put(order_body(status="partially_refunded", refund_amount="299.00"))
    full = put(order_body(status="refunded"))
    assert full.json()["events"] == ["order_refunded"]
    assert full.json()["order"]["refund_amount"] == "598.00"
    put(order_body(status="refunded"))

    assert kinds() == ["order_paid", "order_refunded", "order_refunded", "order_shipped"]
    titles = set(Event.objects.filter(kind="order_refunded").values_list("title", flat=True))
    assert titles == {"部分退款 ¥299.00（不喜欢）", "全额退款 ¥598.00"}
    assert Event.objects.get(kind="order_shipped").title == "订单已发货：顺丰 SF1234567890"
    customer = Customer.objects.get()
    # A fully refunded order no longer counts.
    assert customer.order_count == 0 and customer.refund_count == 1


def test_partial_refund_lowers_spend(put):
    put(order_body())
    put(order_body(status="partially_refunded", refund_amount="100.00"))
    customer = Customer.objects.get()
    assert customer.total_spend == Decimal("498.00") and customer.refund_count == 1


def test_late_redelivery_of_an_older_state_is_ignored(put):
    put(order_body(status="refunded"))
    stale = put(order_body(status="paid"))
    assert stale.json()["result"] == "unchanged"
    order = Order.objects.get()
    assert order.status == "refunded" and order.refund_amount == Decimal("598.00")


def test_status_update_without_identities_keeps_the_buyer(put):
    put(order_body())
    response = put({"paid_at": "2026-11-01T15:30:00+08:00", "amount": "598.00", "status": "completed"})
    assert response.status_code == 200, response.content
    assert Order.objects.get().status == "completed"
    assert Customer.objects.count() == 1


def test_new_order_needs_identities(put):
    response = put({"paid_at": "2026-11-01T15:30:00+08:00", "amount": "598.00"})
    assert response.status_code == 422 and "identities" in error_fields(response)
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_changed_lines_are_replaced(put):
    put(order_body())
    lines = [{"name": "口红 #01", "unit_price": "199.00"}, {"name": "卸妆水", "unit_price": "99.00", "quantity": 4}]
    response = put(order_body(lines=lines))
    assert response.json()["changed"] == ["lines"]
    assert sorted(Order.objects.get().lines.values_list("name", "amount")) == [
        ("卸妆水", Decimal("396.00")),
        ("口红 #01", Decimal("199.00")),
    ]


def test_attribution_defaults_to_the_guide_serving_at_paid_at(put):
    paid_at = dt.datetime(2026, 11, 1, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    customer = CustomerFactory()
    IdentityFactory(customer=customer, kind="mp_openid", value="oMP_BUYER")
    before = StaffFactory(userid="left_before")
    FollowRelationFactory(
        staff=before,
        customer=customer,
        added_at=paid_at - dt.timedelta(days=90),
        ended_at=paid_at - dt.timedelta(days=10),
        ended_by="transfer",
    )
    serving = StaffFactory(userid="serving")
    FollowRelationFactory(staff=serving, customer=customer, added_at=paid_at - dt.timedelta(days=10))
    later = StaffFactory(userid="added_later")
    FollowRelationFactory(staff=later, customer=customer, added_at=paid_at + dt.timedelta(days=1))

    response = put(order_body())
    assert response.json()["order"]["staff_userid"] == "serving"
    order = Order.objects.get()
    assert order.staff == serving and order.store == serving.store
    assert Event.objects.get().staff == serving

    # A later hand-over does not take the order away on a resend.
    FollowRelationFactory(staff=later, customer=customer, added_at=timezone.now())
    put(order_body(status="completed"))
    assert Order.objects.get().staff == serving


def test_explicit_staff_and_store(put):
    store = StoreFactory(code="SH009")
    guide = StaffFactory(userid="lisi", store=store)
    response = put(order_body(staff_userid="lisi", store_code="SH009"), url="/api/v1/orders/pos/POS-0001")
    assert response.status_code == 201
    order = Order.objects.get()
    assert order.staff == guide and order.store == store and order.channel == "pos"
    assert Event.objects.get().title.startswith(f"在{store.name}下单")


def test_no_guide_no_attribution(put):
    put(order_body())
    assert Order.objects.get().staff is None


def test_same_order_no_in_two_channels_are_two_orders(put):
    put(order_body())
    put(order_body(), url="/api/v1/orders/tmall/MP20261101001")
    assert Order.objects.count() == 2


def test_identities_attach_and_merge_through_orders(put, writer):
    first = writer.post("/api/v1/customers/identify", {"identities": {"tmall": "tb_buyer"}}).json()["id"]
    put(order_body(identities={"tmall": "tb_buyer", "unionid": "oU_BUYER"}))
    put(order_body(identities={"mp_openid": "oMP_OTHER", "unionid": "oU_BUYER"}), url="/api/v1/orders/mp/SECOND")
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1
    assert set(Order.objects.values_list("customer_id", flat=True)) == {first}
    assert Customer.objects.get(pk=first).order_count == 2


@pytest.mark.parametrize(
    ("url", "body", "field", "status"),
    [
        ("/api/v1/orders/fax/1", order_body(), "channel", 400),
        ("/api/v1/orders/wecom/1", order_body(), "channel", 400),
        (f"/api/v1/orders/mp/{'x' * 65}", order_body(), "order_no", 400),
        (URL, order_body(amount="-1"), "amount", 400),
        (URL, order_body(amount="abc"), "amount", 400),
        (URL, order_body(amount=598), "amount", 400),  # money is a string, as the schema says
        (URL, order_body(refund_amount="600.00"), "refund_amount", 422),
        (URL, order_body(status="lost"), "status", 400),
        (URL, order_body(paid_at="2026-11-01 15:30"), "paid_at", 400),
        (URL, order_body(paid_at="yesterday"), "paid_at", 400),
        (URL, order_body(paid_at="1999-12-31T23:00:00+08:00"), "paid_at", 422),
        (URL, order_body(store_code="NOPE"), "store_code", 422),
        (URL, order_body(staff_userid="ghost"), "staff_userid", 422),
        (URL, order_body(lines=[{"name": "x"}]), "lines", 400),
        (URL, order_body(amount="12345678901234.00"), "amount", 400),
        # 单价×数量 past the 12-digit column: PostgreSQL refused it with a 500.
        (URL, order_body(lines=[{"name": "x", "unit_price": "99999999.99", "quantity": 100000}]), "lines", 422),
    ],
)
def test_bad_orders_are_refused_and_store_nothing(put, url, body, field, status):
    response = put(body, url=url)
    assert response.status_code == status, response.content
    assert field in error_fields(response)
    assert not Order.objects.exists() and not Event.objects.exists()


def test_refund_never_shrinks(put):
    put(order_body(status="partially_refunded", refund_amount="300.00"))
    response = put(order_body(status="partially_refunded", refund_amount="100.00"))
    assert response.json()["result"] == "unchanged"
    assert Order.objects.get().refund_amount == Decimal("300.00")
