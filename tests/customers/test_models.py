import pytest
from django.db import IntegrityError, transaction

from scrm.customers.events import KIND_INFO, EventKind
from scrm.customers.models import Identity, IdentityKind
from tests.factories import (
    CustomerFactory,
    EventFactory,
    FollowRelationFactory,
    IdentityFactory,
    OrderFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def test_identity_kind_value_is_unique_across_customers():
    IdentityFactory(kind=IdentityKind.UNIONID, value="oUNION1")
    with pytest.raises(IntegrityError, match="(?i)unique"), transaction.atomic():
        IdentityFactory(kind=IdentityKind.UNIONID, value="oUNION1")
    # The same value under another kind is another identity.
    IdentityFactory(kind=IdentityKind.MP_OPENID, value="oUNION1")
    assert Identity.objects.filter(value="oUNION1").count() == 2


def test_order_no_is_unique_per_channel_only():
    OrderFactory(channel="tmall", order_no="T1")
    OrderFactory(channel="jd", order_no="T1")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(channel="tmall", order_no="T1")


def test_event_dedupe_key_rejects_a_second_copy():
    EventFactory(dedupe_key="callback:abc")
    with pytest.raises(IntegrityError), transaction.atomic():
        EventFactory(dedupe_key="callback:abc")


def test_one_active_follow_relation_per_guide_and_contact_but_history_is_kept():
    guide = StaffFactory()
    customer = CustomerFactory()
    first = FollowRelationFactory(staff=guide, customer=customer, external_userid="wmX")
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowRelationFactory(staff=guide, customer=customer, external_userid="wmX")
    first.ended_at = first.added_at
    first.ended_by = "customer"
    first.save()
    FollowRelationFactory(staff=guide, customer=customer, external_userid="wmX")
    assert guide.follow_relations.count() == 2


def test_every_event_kind_has_an_icon_and_group():
    assert set(KIND_INFO) == set(EventKind.values)


def test_duplicate_identity_gets_a_clear_validation_error_in_forms_and_admin():
    from django.core.exceptions import ValidationError

    first = IdentityFactory(kind=IdentityKind.TMALL, value="tb_123")
    duplicate = Identity(customer=CustomerFactory(), kind=IdentityKind.TMALL, value="tb_123")
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert "身份标识 已经存在" in str(error.value)  # Chinese message, as admin shows it
    assert Identity.objects.get(kind=IdentityKind.TMALL, value="tb_123") == first


def test_admin_add_identity_duplicate_shows_form_error(admin_client):
    IdentityFactory(kind=IdentityKind.JD, value="jd_9")
    customer = CustomerFactory()
    response = admin_client.post(
        "/admin/customers/identity/add/", {"customer": customer.pk, "kind": IdentityKind.JD, "value": "jd_9"}
    )
    assert response.status_code == 200
    assert "身份标识 已经存在" in response.content.decode()
    assert Identity.objects.filter(value="jd_9").count() == 1
