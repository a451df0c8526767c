import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from scrm.customers.models import Customer, LifecycleStage, OrderStatus
from scrm.customers.services import customer_refresh_figures, phone_hash, phone_mask
from tests.factories import CustomerFactory, FollowRelationFactory, OrderFactory

TODAY = dt.date(2026, 11, 28)


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(14, 0)))


def test_phone_is_masked_and_hashed_the_same_whatever_the_format():
    assert phone_mask("+86 138-0013-5678") == "138****5678"
    assert phone_hash("13800135678") == phone_hash("+86 138 0013 5678")
    assert "13800135678" not in phone_hash("13800135678")


@pytest.mark.django_db
def test_figures_from_orders():
    customer = CustomerFactory()
    for days_ago, amount in [(100, "200.00"), (70, "300.00"), (40, "100.00")]:
        OrderFactory(customer=customer, paid_at=at(TODAY - dt.timedelta(days=days_ago)), amount=Decimal(amount))
    OrderFactory(
        customer=customer, paid_at=at(TODAY - dt.timedelta(days=10)), amount=Decimal("999"), status=OrderStatus.REFUNDED
    )

    customer_refresh_figures(customer_id=customer.pk, today=TODAY)
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.order_count == 3
    assert customer.refund_count == 1
    assert customer.total_spend == Decimal("600.00")
    assert customer.avg_order_value == Decimal("200.00")
    assert customer.repurchase_cycle_days == 30
    assert customer.next_expected_on == TODAY - dt.timedelta(days=10)
    assert customer.lifecycle_stage == LifecycleStage.REPEAT
    assert customer.churn_risk is False


@pytest.mark.django_db
def test_orders_split_on_one_day_are_one_purchase_not_a_one_day_cycle():
    customer = CustomerFactory()
    for hour in (10, 11):
        OrderFactory(customer=customer, paid_at=at(TODAY - dt.timedelta(days=3)).replace(hour=hour))
    figures = customer_refresh_figures(customer_id=customer.pk, today=TODAY)
    assert figures.order_count == 2
    assert figures.repurchase_cycle_days is None
    assert (figures.lifecycle_stage, figures.churn_risk) == (LifecycleStage.NEW, False)

    OrderFactory(customer=customer, paid_at=at(TODAY - dt.timedelta(days=200)))
    OrderFactory(customer=customer, paid_at=at(TODAY - dt.timedelta(days=200)).replace(hour=9))
    figures = customer_refresh_figures(customer_id=customer.pk, today=TODAY)
    assert figures.repurchase_cycle_days == 197
    assert figures.lifecycle_stage == LifecycleStage.REPEAT


@pytest.mark.django_db
def test_overdue_customer_is_dormant_with_a_reason():
    customer = CustomerFactory()
    for days_ago in (200, 170, 140):
        OrderFactory(customer=customer, paid_at=at(TODAY - dt.timedelta(days=days_ago)))
    figures = customer_refresh_figures(customer_id=customer.pk, today=TODAY)
    assert figures.lifecycle_stage == LifecycleStage.DORMANT
    assert figures.churn_reason == "超过平均回购周期 2 倍未购买"


@pytest.mark.django_db
def test_customer_who_deleted_every_guide_is_lost():
    customer = CustomerFactory()
    OrderFactory(customer=customer, paid_at=at(TODAY - dt.timedelta(days=5)))
    FollowRelationFactory(customer=customer, ended_at=timezone.now(), ended_by="customer")
    figures = customer_refresh_figures(customer_id=customer.pk, today=TODAY)
    assert figures.lifecycle_stage == LifecycleStage.LOST
    assert figures.churn_reason == "已删除好友"


@pytest.mark.django_db
def test_customer_with_no_orders_is_a_prospect():
    customer = CustomerFactory()
    FollowRelationFactory(customer=customer)
    figures = customer_refresh_figures(customer_id=customer.pk, today=TODAY)
    assert figures.lifecycle_stage == LifecycleStage.PROSPECT
    assert figures.order_count == 0
    assert not figures.churn_risk


@pytest.mark.django_db
def test_figures_refresh_runs_after_commit_once_per_customer_and_a_broker_outage_loses_no_write(
    monkeypatch, django_capture_on_commit_callbacks, caplog
):
    from django.db import transaction

    from scrm.customers import tasks
    from scrm.customers.services import customer_figures_refresh_later

    customer = CustomerFactory()
    OrderFactory(customer=customer, paid_at=at(TODAY), amount=Decimal("88.00"))
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            customer_figures_refresh_later(customer_ids=[customer.pk, customer.pk])
            assert Customer.objects.get(pk=customer.pk).order_count == 0  # not before commit
    assert Customer.objects.get(pk=customer.pk).order_count == 1

    def broker_down(customer_id):
        raise ConnectionError("redis unreachable")

    monkeypatch.setattr(tasks.refresh_figures, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            other = CustomerFactory(name="新客户")
            customer_figures_refresh_later(customer_ids=[other.pk])
    assert Customer.objects.filter(name="新客户").exists()
    assert f"figures of customer {other.pk} left for the nightly sweep" in caplog.text


@pytest.mark.django_db
def test_nightly_sweep_agrees_with_the_after_write_refresh(django_assert_max_num_queries):
    from scrm.customers import tasks

    customers = [CustomerFactory() for _ in range(6)]
    for i, customer in enumerate(customers):
        for n in range(i):
            OrderFactory(customer=customer, paid_at=at(TODAY - dt.timedelta(days=20 * n + 3)))
    expected = {c.pk: customer_refresh_figures(customer_id=c.pk) for c in customers}
    Customer.objects.update(order_count=0, lifecycle_stage=LifecycleStage.PROSPECT, figures_updated_at=None)

    with django_assert_max_num_queries(8):  # batched: not a query per customer
        assert tasks.refresh_all_figures() == 6
    for customer in Customer.objects.all():
        assert customer.order_count == expected[customer.pk].order_count
        assert customer.lifecycle_stage == expected[customer.pk].lifecycle_stage
        assert customer.figures_updated_at is not None


@pytest.mark.django_db
def test_a_reused_note_request_id_never_returns_another_customers_note():
    from scrm.customers.services import note_create
    from tests.factories import StaffFactory

    guide = StaffFactory()
    first, second = CustomerFactory(), CustomerFactory()
    a = note_create(customer=first, staff=guide, body="甲", request_id="tap-1")
    b = note_create(customer=second, staff=guide, body="乙", request_id="tap-1")
    assert (a.customer, b.customer, b.body) == (first, second, "乙")
    assert note_create(customer=first, staff=guide, body="甲", request_id="tap-1") == a
