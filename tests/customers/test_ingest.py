"""Services behind the ingestion API (scrm.customers.ingest), called directly."""

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from scrm.customers import ingest, ingest_orders
from scrm.customers.models import Customer, Event, Order
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db

PHONE = "13700001111"
PAID = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def data(**overrides) -> ingest.OrderData:
    fields = {"paid_at": PAID, "amount": Decimal("100.00"), **overrides}
    return ingest.OrderData(**fields)


def test_phone_is_never_stored_in_clear_anywhere(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ingest.customer_upsert_from_api(identities={"phone": PHONE, "mp_openid": "oMP"}, name="赵女士")
        ingest.event_ingest(
            source="mp",
            source_id="1",
            kind="mp_visit",
            occurred_at=PAID,
            channel="mp",
            identities={"phone": f"+86 {PHONE}"},
            payload={"phone": PHONE, "page": "首页"},
        )
        ingest_orders.order_upsert(channel="mp", order_no="A1", identities={"phone": PHONE}, data=data())
    assert Customer.objects.count() == 1
    # Every text and JSON column of every customer-domain row.
    for model in apps.get_app_config("customers").get_models():
        for row in model.objects.values():
            assert PHONE not in str(row), model.__name__


def test_event_ingest_is_idempotent_and_does_not_resolve_again():
    event, created = ingest.event_ingest(
        source="oa", source_id="7", kind="follow_oa", occurred_at=PAID, channel="oa", identities={"oa_openid": "oOA"}
    )
    assert created and event.title == "关注公众号"
    again, created = ingest.event_ingest(
        source="oa", source_id="7", kind="follow_oa", occurred_at=PAID, channel="oa", identities={"oa_openid": "NEW"}
    )
    assert again.pk == event.pk and not created
    assert Customer.objects.count() == 1  # the redelivery's new identity created nobody


@pytest.mark.parametrize(
    ("kind", "payload", "title"),
    [
        ("mp_product_view", {"product": "口红"}, "浏览了 口红"),
        ("mp_product_view", {"name": "口红"}, "浏览了 口红"),
        ("mp_product_view", {}, "浏览商品"),
        ("add_to_cart", {"product": "面霜"}, "将 面霜 加入购物车"),
        ("coupon_sent", {"coupon": "满299减50"}, "发放优惠券「满299减50」"),
        ("chat_message", {"text": "你好"}, "聊天"),
    ],
)
def test_default_titles(kind, payload, title):
    assert ingest.event_default_title(kind=kind, payload=payload) == title


def test_service_refuses_what_the_serializer_would(db):
    with pytest.raises(ValidationError) as exc:
        ingest.event_ingest(
            source="mp", source_id="1", kind="order_paid", occurred_at=PAID, channel="mp", identities={"mp_openid": "o"}
        )
    assert "kind" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        ingest_orders.order_upsert(
            channel="mp", order_no="A", identities={"mp_openid": "o"}, data=data(paid_at=dt.datetime(2026, 1, 1))
        )
    assert "paid_at" in exc.value.message_dict
    with pytest.raises(ValidationError):
        ingest.customer_upsert_from_api(identities={"phone": "110"})
    assert not Customer.objects.exists() and not Event.objects.exists()


def test_attribution_prefers_a_guide_of_the_order_store():
    customer = CustomerFactory()
    store = StoreFactory()
    first = StaffFactory()
    FollowRelationFactory(staff=first, customer=customer, added_at=PAID - dt.timedelta(days=20))
    local = StaffFactory(store=store)
    FollowRelationFactory(staff=local, customer=customer, added_at=PAID - dt.timedelta(days=5))
    assert ingest_orders.order_attributed_staff(customer=customer, paid_at=PAID, store=None) == first
    assert ingest_orders.order_attributed_staff(customer=customer, paid_at=PAID, store=store) == local


def test_order_follows_corrected_buyer_and_both_figures_refresh(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ingest_orders.order_upsert(channel="jd", order_no="J1", identities={"jd": "wrong"}, data=data())
    wrong = Customer.objects.get()
    assert wrong.order_count == 1
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest_orders.order_upsert(channel="jd", order_no="J1", identities={"jd": "right"}, data=data())
    assert result.changed == ["customer"] and result.moved_from == [wrong.pk]
    right = Customer.objects.exclude(pk=wrong.pk).get()
    assert Order.objects.get().customer == right
    assert Event.objects.get(kind="order_paid").customer == right
    wrong.refresh_from_db()
    right.refresh_from_db()
    assert (wrong.order_count, right.order_count) == (0, 1)


def test_a_corrected_buyer_takes_only_this_orders_events_not_those_of_an_order_no_it_prefixes():
    # Order numbers may contain ':'; J1's events must not be confused with J1:2's.
    ingest_orders.order_upsert(channel="jd", order_no="J1", identities={"jd": "wrong"}, data=data())
    ingest_orders.order_upsert(
        channel="jd",
        order_no="J1:2",
        identities={"jd": "wrong"},
        data=data(status="refunded", shipped_at=PAID),
    )
    wrong = Customer.objects.get()

    ingest_orders.order_upsert(
        channel="jd", order_no="J1", identities={"jd": "right"}, data=data(status="refunded", shipped_at=PAID)
    )

    right = Customer.objects.exclude(pk=wrong.pk).get()
    moved = Event.objects.filter(customer=right).values_list("dedupe_key", flat=True)
    kept = Event.objects.filter(customer=wrong).values_list("dedupe_key", flat=True)
    assert sorted(moved) == ["order:jd:J1:paid", "order:jd:J1:refunded:100.00", "order:jd:J1:shipped"]
    assert sorted(kept) == ["order:jd:J1:2:paid", "order:jd:J1:2:refunded:100.00", "order:jd:J1:2:shipped"]


def test_shipped_event_uses_shipped_at():
    shipped_at = timezone.now().replace(microsecond=0)
    ingest_orders.order_upsert(channel="tmall", order_no="T1", identities={"tmall": "tb"}, data=data())
    result = ingest_orders.order_upsert(
        channel="tmall", order_no="T1", identities={"tmall": "tb"}, data=data(status="shipped", shipped_at=shipped_at)
    )
    assert result.events == ["order_shipped"]
    assert Event.objects.get(kind="order_shipped").occurred_at == shipped_at


def _twice_at_once(work):
    """Run `work` in two threads released together; each thread uses its own DB connection."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            work()
        except Exception as exc:  # reported below, the thread must not die silently
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_deliveries_store_one_order_and_one_event():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent inserts need PostgreSQL")
    _twice_at_once(
        lambda: ingest_orders.order_upsert(
            channel="youzan", order_no="Y1", identities={"youzan": "yz1", "unionid": "oU9"}, data=data()
        )
    )
    _twice_at_once(
        lambda: ingest.event_ingest(
            source="mp", source_id="c1", kind="mp_visit", occurred_at=PAID, channel="mp", identities={"unionid": "oU9"}
        )
    )
    assert Order.objects.count() == 1 and Customer.objects.count() == 1
    assert sorted(Event.objects.values_list("kind", flat=True)) == ["mp_visit", "order_paid"]


def test_phone_numbers_nested_in_a_payload_are_masked():
    from scrm.customers.ingest import _clean_payload

    cleaned = _clean_payload(
        {"receiver": {"name": "王", "mobile": "13800135678"}, "items": [{"tel": "+86 139 0000 1111"}], "n": 1}
    )
    assert cleaned == {"receiver": {"name": "王", "mobile": "138****5678"}, "items": [{"tel": "139****1111"}], "n": 1}


@pytest.mark.django_db(transaction=True)
def test_concurrent_identifies_of_one_new_person_say_created_once_and_never_fail():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent inserts need PostgreSQL")
    import threading

    created = []
    lock = threading.Lock()

    def identify(identities):
        def work():
            result = ingest.customer_upsert_from_api(identities=identities)
            with lock:
                created.append(result.created)

        return work

    _twice_at_once(identify({"unionid": "oU-new", "mp_openid": "oMP-new"}))
    assert sorted(created) == [False, True]
    # Overlapping identity sets resolved at once (A+B, B+C) queue on their row locks, never deadlock.
    for _ in range(3):
        _twice_at_once(identify({"unionid": "oU-new", "jd": "jd-x"}))
        _twice_at_once(identify({"jd": "jd-x", "mp_openid": "oMP-new"}))
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1
