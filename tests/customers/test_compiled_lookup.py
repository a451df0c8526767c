"""The sidebar's customer lookup is compiled once per staff member (#17) and still answers like the ORM."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scrm.customers import selectors
from scrm.customers.selectors import customer_get_for_staff
from scrm.org.models import Staff
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_runs_the_sql_the_orm_would_with_the_store_and_remark_in_one_query(store):
    guide = StaffFactory(store=store)
    customer = CustomerFactory(store=store)
    relation = FollowRelationFactory(staff=guide, customer=customer, remark="王姐")
    orm = selectors._customer_for_staff_query(staff=guide, external_userid=relation.external_userid)
    with CaptureQueriesContext(connection) as by_orm:
        [expected] = orm

    with CaptureQueriesContext(connection) as compiled:
        found = customer_get_for_staff(staff=guide, external_userid=relation.external_userid)
        assert found.store.name == store.name  # selected with the customer, no second query

    assert found == expected == customer
    assert found.remarks == {guide.pk: "王姐"}
    assert [q["sql"] for q in compiled.captured_queries] == [q["sql"] for q in by_orm.captured_queries]


def test_a_second_lookup_sees_changes_made_since_the_first(store):
    guide = StaffFactory(store=store)
    customer = CustomerFactory(store=store, name="旧名")
    relation = FollowRelationFactory(staff=guide, customer=customer)
    assert customer_get_for_staff(staff=guide, external_userid=relation.external_userid).name == "旧名"

    customer.name = "新名"
    customer.save(update_fields=["name"])
    relation.remark = "新备注"
    relation.save(update_fields=["remark"])
    again = customer_get_for_staff(staff=guide, external_userid=relation.external_userid)
    assert (again.name, again.remarks[guide.pk]) == ("新名", "新备注")

    relation.ended_at, relation.ended_by = timezone.now(), "transfer"
    relation.save(update_fields=["ended_at", "ended_by"])
    assert customer_get_for_staff(staff=guide, external_userid=relation.external_userid) is None


def test_each_staff_member_keeps_their_own_visibility(store):
    mine, theirs = StaffFactory(store=store), StaffFactory(store=StoreFactory())
    relation = FollowRelationFactory(staff=mine, customer=CustomerFactory(store=store))
    assert customer_get_for_staff(staff=mine, external_userid=relation.external_userid) is not None
    assert customer_get_for_staff(staff=theirs, external_userid=relation.external_userid) is None

    # A promotion changes what the same staff member may see on the very next lookup.
    theirs.role, theirs.store = Staff.Role.ADMIN, None
    assert customer_get_for_staff(staff=theirs, external_userid=relation.external_userid) is not None
