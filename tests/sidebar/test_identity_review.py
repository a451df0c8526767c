"""身份核对 on the portrait (#12): the guide decides merge suggestions and undoes phone merges in one tap."""

import pytest

from scrm.customers.identity import customer_resolve_detail
from scrm.customers.models import CustomerMerge, Identity, MergeSuggestion, Order
from scrm.customers.services import phone_hash, phone_mask
from tests.factories import FollowRelationFactory, IdentityFactory, OrderFactory, StaffFactory

pytestmark = pytest.mark.django_db

NUMBER = "13800138000"
PHONE = ("phone", phone_hash(NUMBER), phone_mask(NUMBER))


@pytest.fixture
def with_phone(followed_customer):
    IdentityFactory(customer=followed_customer, kind="phone", value=PHONE[1], display=PHONE[2])
    IdentityFactory(customer=followed_customer, kind="mp_openid", value="oMPmother001")
    return followed_customer


def child_arrives(verified=()):
    """The child's Tmall account with the family phone (what a shop's order would send)."""
    return customer_resolve_detail(identities=[("tmall", "tb_child123", ""), PHONE], defaults={}, verified=verified)


def test_guide_sees_a_suggestion_with_masked_evidence_and_confirms_it(guide_client, ext, with_phone):
    child = child_arrives().customer
    OrderFactory(customer=child)

    page = guide_client.get(f"/sidebar/c/{ext}/").content.decode()
    assert f"天猫账号 tb_***123 与本客户手机号相同：{PHONE[2]}" in page  # which phone, masked
    assert "tb_child123" not in page

    suggestion = MergeSuggestion.objects.get()
    response = guide_client.post(
        f"/sidebar/c/{ext}/identity/suggestions/{suggestion.pk}/confirm", HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "已合并为同一人" in response.content.decode()
    child.refresh_from_db()
    assert child.merged_into_id == with_phone.pk
    assert Order.objects.get().customer_id == with_phone.pk
    assert "与本客户手机号相同" not in guide_client.get(f"/sidebar/c/{ext}/").content.decode()


def test_rejecting_a_suggestion_keeps_two_people_and_the_same_evidence_does_not_ask_again(
    guide_client, ext, with_phone
):
    child = child_arrives().customer
    suggestion = MergeSuggestion.objects.get()

    guide_client.post(f"/sidebar/c/{ext}/identity/suggestions/{suggestion.pk}/reject")
    again = child_arrives(verified={"phone"})

    assert again.customer.pk == child.pk and again.outcome == "matched"
    assert MergeSuggestion.objects.get().status == MergeSuggestion.Status.REJECTED
    assert "身份核对" not in guide_client.get(f"/sidebar/c/{ext}/").content.decode()


def test_a_phone_merge_is_shown_as_such_and_undone_in_one_tap_for_good(guide_client, ext, with_phone):
    merged = child_arrives(verified={"phone"})
    assert merged.outcome == "merged" and merged.customer.pk == with_phone.pk
    merge = CustomerMerge.objects.get()

    page = guide_client.get(f"/sidebar/c/{ext}/").content.decode()
    assert "因手机号相同并入了天猫账号 tb_***123" in page

    response = guide_client.post(f"/sidebar/c/{ext}/identity/merges/{merge.pk}/undo", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "不是同一人" in response.content.decode()
    child_account = Identity.objects.get(kind="tmall")
    assert child_account.customer_id != with_phone.pk
    # The same evidence again: remembered as two people.
    assert child_arrives(verified={"phone"}).customer.pk == child_account.customer_id
    assert not CustomerMerge.objects.filter(undone_at__isnull=True).exists()


def test_a_guide_cannot_decide_for_a_customer_they_do_not_serve(client, with_phone):
    child_arrives()
    suggestion = MergeSuggestion.objects.get()
    stranger = StaffFactory()
    other = FollowRelationFactory(staff=stranger)  # serves someone else
    client.force_login(stranger.user)

    response = client.post(f"/sidebar/c/{other.external_userid}/identity/suggestions/{suggestion.pk}/confirm")

    assert response.status_code == 404
    assert MergeSuggestion.objects.get().status == MergeSuggestion.Status.OPEN


def test_a_decision_already_taken_is_a_clear_404_not_an_error(guide_client, ext, with_phone):
    child_arrives()
    suggestion = MergeSuggestion.objects.get()
    guide_client.post(f"/sidebar/c/{ext}/identity/suggestions/{suggestion.pk}/reject")

    response = guide_client.post(f"/sidebar/c/{ext}/identity/suggestions/{suggestion.pk}/confirm")

    assert response.status_code == 404
