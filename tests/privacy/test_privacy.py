"""PIPL: accesses to personal data are logged; a customer's data is exported and erased on request."""

import datetime as dt
import json

import pytest

from scrm.analytics.models import GuideCustomerDay
from scrm.api.services import api_key_create
from scrm.customers.identity import customer_merge
from scrm.customers.models import Customer, Event, FollowRelation, Identity, Note, Order
from scrm.materials.models import MaterialSend
from scrm.org.models import Staff
from scrm.privacy.models import AccessLog, Erasure
from scrm.privacy.services import customer_erase
from scrm.wecom.models import CallbackInbox, TagOutbox
from tests.factories import (
    CustomerFactory,
    CustomerTagFactory,
    EventFactory,
    FollowRelationFactory,
    IdentityFactory,
    MaterialSendFactory,
    NoteFactory,
    OrderFactory,
    OrderLineFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return StaffFactory(role=Staff.Role.ADMIN, store=None, name="法务")


@pytest.fixture
def person(guide):
    """A customer with something in every table, and a second record merged into them."""
    customer = CustomerFactory(name="王小姐", phone_masked="138****8000", phone_hash="h" * 64, store=guide.store)
    relation = FollowRelationFactory(staff=guide, customer=customer, external_userid="wmPERSON")
    IdentityFactory(customer=customer, kind="unionid", value="oU-person")
    EventFactory(customer=customer, kind="mp_visit", payload={"page": "会员中心"})
    order = OrderFactory(customer=customer, staff=guide)
    OrderLineFactory(order=order)
    NoteFactory(customer=customer, staff=guide, body="下周来店试色")
    CustomerTagFactory(customer=customer)
    MaterialSendFactory(customer=customer, staff=guide)
    other = CustomerFactory(name="王小姐（天猫）")
    IdentityFactory(customer=other, kind="tmall", value="tb-person")
    customer_merge(keep=customer, drop=other, reason="同一手机号")
    GuideCustomerDay.objects.create(
        kind=GuideCustomerDay.Kind.ORDER, staff=guide, store=guide.store, customer=customer, day=dt.date(2026, 11, 1)
    )
    CallbackInbox.objects.create(key="k1", event="change_external_contact", external_userid=relation.external_userid)
    TagOutbox.objects.create(userid=guide.userid, external_userid=relation.external_userid)
    CallbackInbox.objects.create(key="k2", event="change_external_contact", external_userid="wmSOMEONE_ELSE")
    return customer


def test_a_guide_opening_a_portrait_is_logged_once_per_ten_minutes(guide_client, followed_customer, guide):
    external = followed_customer.follow_relations.get().external_userid
    for _ in range(3):
        assert guide_client.get(f"/sidebar/c/{external}/").status_code == 200
    log = AccessLog.objects.get()
    assert (log.staff, log.action, log.customer_id) == (guide, AccessLog.Action.VIEW, followed_customer.pk)
    assert guide.userid in log.actor and log.ip


def test_a_managers_csv_export_is_logged_with_its_file_name(client, manager, guide, followed_customer):
    client.force_login(manager.user)
    response = client.get(f"/console/performance/guides/{guide.pk}/?format=csv")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    log = AccessLog.objects.get(action=AccessLog.Action.EXPORT_LIST)
    assert log.staff == manager and log.subject == f"customers-{guide.name}.csv"


def test_the_customers_data_export_holds_everything_and_is_logged(client, admin, person):
    client.force_login(admin.user)
    response = client.get(f"/console/privacy/customers/{person.pk}/export/")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["customer"]["name"] == "王小姐" and data["customer"]["phone_masked"] == "138****8000"
    assert {"unionid", "tmall", "wecom_external_userid"} == {row["kind"] for row in data["identities"]}
    assert data["orders"][0]["lines"] and data["notes"][0]["body"] == "下周来店试色"
    assert data["wecom_relations"][0]["external_userid"] == "wmPERSON" and data["merged_customer_ids"]
    assert AccessLog.objects.filter(action=AccessLog.Action.EXPORT_CUSTOMER, customer_id=person.pk).exists()


def test_erasure_reaches_every_table_and_keeps_the_aggregates(admin, person, guide):
    merged_away = Customer.objects.get(merged_into=person)
    identities = Identity.objects.filter(customer__in=[person, merged_away]).count()
    result = customer_erase(customer=person, staff=admin)

    for model in (Identity, FollowRelation, Event, Order, Note, MaterialSend):
        assert not model.objects.filter(customer__in=[person, merged_away]).exists(), model
    assert not person.customer_tags.exists() and not person.merges_kept.exists()
    assert list(CallbackInbox.objects.values_list("external_userid", flat=True)) == ["wmSOMEONE_ELSE"]
    assert not TagOutbox.objects.exists()
    person.refresh_from_db()
    assert (person.name, person.phone_masked, person.phone_hash, person.birthday) == ("", "", "", None)
    assert person.order_count == 0 and person.total_spend == 0
    # The counts already made stay: the day's distinct buyer is still counted.
    assert GuideCustomerDay.objects.filter(customer=person).count() == 1
    assert result.counts["customers.Identity"] == identities == 3 and result.counts["wecom.CallbackInbox"] == 1
    assert Erasure.objects.filter(customer_id=person.pk).exists()
    assert AccessLog.objects.filter(action=AccessLog.Action.ERASE_CUSTOMER, customer_id=person.pk).exists()


def test_erasing_twice_is_harmless_and_the_api_no_longer_knows_the_customer(client, admin, person):
    key = api_key_create(name="BI", scope="read")[1]
    assert client.get(f"/api/v1/customers/{person.pk}", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    customer_erase(customer=person, staff=admin)
    customer_erase(customer=Customer.objects.get(pk=person.pk), staff=admin)
    assert client.get(f"/api/v1/customers/{person.pk}", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 404


def test_only_admins_reach_the_page_and_erasure_needs_a_post(client, manager, admin, person):
    client.force_login(manager.user)
    assert client.get("/console/privacy/").status_code == 403
    assert client.post(f"/console/privacy/customers/{person.pk}/erase/").status_code == 403
    client.force_login(admin.user)
    page = client.get(f"/console/privacy/?customer={person.pk}")
    assert page.status_code == 200 and "王小姐" in page.content.decode() and "删除个人数据" in page.content.decode()
    assert client.get(f"/console/privacy/customers/{person.pk}/erase/").status_code == 405
    erased = client.post(f"/console/privacy/customers/{person.pk}/erase/", follow=True)
    assert "已删除客户" in erased.content.decode() and "个人数据已删除" in erased.content.decode()
    assert not Identity.objects.filter(customer=person).exists()


def test_a_bad_filter_is_a_chinese_form_error(client, admin):
    client.force_login(admin.user)
    page = client.get("/console/privacy/?customer=abc")
    assert page.status_code == 200 and "客户 id 是数字" in page.content.decode()
