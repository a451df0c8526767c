"""Who may open a customer in the sidebar once relations change hands."""

import pytest
from django.utils import timezone

from scrm.customers.selectors import customer_get_for_staff
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_a_guide_who_handed_a_customer_over_can_no_longer_open_them(store):
    old, new = StaffFactory(store=store), StaffFactory(store=store)
    customer = CustomerFactory(store=store)
    handed = FollowRelationFactory(staff=old, customer=customer, ended_at=timezone.now(), ended_by="transfer")
    taken = FollowRelationFactory(staff=new, customer=customer)

    assert customer_get_for_staff(staff=old, external_userid=handed.external_userid) is None
    assert customer_get_for_staff(staff=new, external_userid=taken.external_userid) == customer


def test_a_relation_ended_in_wecom_still_shows_the_portrait(store):
    guide = StaffFactory(store=store)
    customer = CustomerFactory(store=store)
    deleted = FollowRelationFactory(staff=guide, customer=customer, ended_at=timezone.now(), ended_by="customer")

    assert customer_get_for_staff(staff=guide, external_userid=deleted.external_userid) == customer
