"""Identity you can trust (#12): no false merges, every merge explained and reversible."""

import datetime as dt

import pytest
from django.utils import timezone

from scrm.customers.identity import customer_merge, customer_merge_undo, customer_resolve, customer_resolve_detail
from scrm.customers.models import (
    Customer,
    CustomerMerge,
    Event,
    Identity,
    IdentityConflict,
    MergeSuggestion,
    Order,
)
from scrm.customers.services import phone_hash, phone_mask
from tests.factories import CustomerFactory, EventFactory, IdentityFactory, OrderFactory

pytestmark = pytest.mark.django_db

PHONE = ("phone", phone_hash("13800138000"), phone_mask("13800138000"))


def resolve(*pairs, verified=()):
    rows = [PHONE if kind == "phone" else (kind, value, "") for kind, value in pairs]
    return customer_resolve_detail(identities=rows, defaults={}, verified=set(verified))


def test_a_family_phone_only_suggests_the_two_are_one(settings):
    settings.IDENTITY_PHONE_POLICY = "verified"
    mother = resolve(("tmall", "tb_mother123"), ("phone", "")).customer

    child = resolve(("pos_member", "M0001"), ("phone", ""))

    assert child.customer.pk != mother.pk
    assert child.outcome == "suggested"
    assert set(Identity.objects.filter(customer=mother).values_list("kind", flat=True)) == {"tmall", "phone"}
    assert Identity.objects.get(kind="pos_member").customer == child.customer
    suggestion = MergeSuggestion.objects.get()
    assert {suggestion.customer_id, suggestion.other_id} == {mother.pk, child.customer.pk}
    assert suggestion.status == MergeSuggestion.Status.OPEN
    assert "***" in suggestion.evidence and "M0001" not in suggestion.evidence
    assert not CustomerMerge.objects.exists()


def test_a_verified_phone_merges_and_the_merge_says_it_was_the_phone(settings):
    settings.IDENTITY_PHONE_POLICY = "verified"
    person = resolve(("unionid", "oU1"), ("phone", ""), verified=["phone"]).customer

    shop = resolve(("tmall", "tb_123456"), ("phone", ""))

    assert shop.customer.pk == person.pk
    assert shop.outcome == "merged"
    merge = CustomerMerge.objects.get()
    assert merge.key == "phone" and merge.keep_id == person.pk
    # The attach is a merge like any other: a guide can undo it, and the account comes back apart.
    customer_merge_undo(merge=merge)
    assert Identity.objects.get(kind="tmall").customer_id == merge.drop_id


@pytest.mark.parametrize(("policy", "merged"), [("strict", False), ("merge", True)])
def test_the_phone_policy_decides_whether_a_phone_merges(settings, policy, merged):
    settings.IDENTITY_PHONE_POLICY = policy
    first = resolve(("unionid", "oU1"), ("phone", ""), verified=["phone"]).customer

    second = resolve(("tmall", "tb_123456"), ("phone", "")).customer

    assert (second.pk == first.pk) is merged
    assert MergeSuggestion.objects.exists() is not merged


def test_a_second_unionid_is_refused_and_recorded_as_a_conflict():
    first = resolve(("mp_openid", "oMP1"), ("unionid", "oU1")).customer

    again = resolve(("mp_openid", "oMP1"), ("unionid", "oU2"))

    assert again.customer.pk == first.pk
    assert again.outcome == "conflict"
    assert not Identity.objects.filter(value="oU2").exists()
    conflict = IdentityConflict.objects.get()
    assert (conflict.kind, conflict.value, conflict.other_value) == ("unionid", "oU1", "oU2")


def test_two_people_with_different_unionids_are_never_joined_by_an_account():
    a = resolve(("unionid", "oU1")).customer
    b = resolve(("unionid", "oU2"), ("tmall", "tb_shared")).customer

    result = resolve(("unionid", "oU1"), ("tmall", "tb_shared"))

    assert result.outcome == "conflict"
    assert Customer.objects.get(pk=b.pk).merged_into is None
    assert Identity.objects.get(value="oU1").customer_id == a.pk
    assert Identity.objects.get(value="oU2").customer_id == b.pk
    conflict = IdentityConflict.objects.get()
    assert {conflict.customer_id, conflict.other_id} == {a.pk, b.pk}


def test_a_phone_on_two_people_with_different_unionids_becomes_shared_and_stops_merging(settings):
    settings.IDENTITY_PHONE_POLICY = "merge"
    mother = resolve(("unionid", "oMother"), ("phone", "")).customer

    child = resolve(("unionid", "oChild"), ("phone", "")).customer

    assert child.pk != mother.pk
    assert Identity.objects.get(kind="phone").shared
    # Shared now: not even a new account carrying the phone joins the mother.
    account = resolve(("tmall", "tb_someone"), ("phone", "")).customer
    assert account.pk not in (mother.pk, child.pk)


def _aged(days_ago: int, kind: str, value: str) -> Customer:
    customer = CustomerFactory()
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))
    IdentityFactory(customer=customer, kind=kind, value=value)
    return Customer.objects.get(pk=customer.pk)


def test_undo_inside_a_chain_brings_back_what_the_later_merge_moved_on():
    k0, k1, d1 = _aged(30, "unionid", "oK0"), _aged(20, "wecom_external_userid", "wmK1"), _aged(10, "tmall", "tbD1")
    d1_event, d1_order = EventFactory(customer=d1), OrderFactory(customer=d1)
    m1 = customer_merge(keep=k1, drop=d1, reason="1")
    m2 = customer_merge(keep=k0, drop=k1, reason="2")

    customer_merge_undo(merge=m1)

    assert Identity.objects.get(value="tbD1").customer_id == d1.pk
    assert Event.objects.get(pk=d1_event.pk).customer_id == d1.pk
    assert Order.objects.get(pk=d1_order.pk).customer_id == d1.pk
    assert Identity.objects.get(value="wmK1").customer_id == k0.pk
    customer_merge_undo(merge=m2)
    assert Identity.objects.get(value="wmK1").customer_id == k1.pk
    assert Identity.objects.get(value="oK0").customer_id == k0.pk
    assert Identity.objects.get(value="tbD1").customer_id == d1.pk
    assert not Customer.objects.filter(merged_into__isnull=False).exists()


def test_an_undone_merge_is_not_redone_by_the_same_evidence():
    a, b = _aged(20, "unionid", "oA"), _aged(10, "tmall", "tbB")
    assert a.pk != b.pk
    first = resolve(("unionid", "oA"), ("tmall", "tbB"))
    assert first.merged == [b.pk]
    customer_merge_undo(merge=CustomerMerge.objects.get())

    again = resolve(("unionid", "oA"), ("tmall", "tbB"))

    assert again.merged == []
    assert Customer.objects.get(pk=b.pk).merged_into is None
    assert Identity.objects.get(value="tbB").customer_id == b.pk
    assert CustomerMerge.objects.filter(undone_at__isnull=True).count() == 0


def test_a_customer_first_seen_with_a_phone_shows_it():
    customer = customer_resolve(identities=[("mp_openid", "oMP9", ""), PHONE], defaults={})

    customer.refresh_from_db()
    assert customer.phone_masked == "138****8000"
    assert customer.phone_hash == PHONE[1]


def test_a_rejected_suggestion_is_not_suggested_again(settings):
    settings.IDENTITY_PHONE_POLICY = "strict"
    resolve(("tmall", "tb_mother123"), ("phone", ""))
    resolve(("pos_member", "M0001"), ("phone", ""))
    MergeSuggestion.objects.update(status=MergeSuggestion.Status.REJECTED)

    again = resolve(("pos_member", "M0001"), ("phone", ""))

    assert again.outcome == "matched"
    assert MergeSuggestion.objects.count() == 1


def test_confirming_a_suggestion_merges_and_undo_keeps_them_apart(settings):
    from scrm.customers.identity_merge import merge_suggestion_confirm, merge_suggestion_reject

    settings.IDENTITY_PHONE_POLICY = "verified"
    mother = resolve(("tmall", "tb_mother123"), ("phone", "")).customer
    child = resolve(("pos_member", "M0001"), ("phone", "")).customer
    suggestion = MergeSuggestion.objects.get()

    merge = merge_suggestion_confirm(suggestion=suggestion)

    assert merge.keep_id == mother.pk and merge.key == "phone"
    assert Identity.objects.get(kind="pos_member").customer_id == mother.pk
    assert merge_suggestion_confirm(suggestion=suggestion) is None  # a double tap merges once
    customer_merge_undo(merge=merge)
    assert Identity.objects.get(kind="pos_member").customer_id == child.pk
    assert resolve(("pos_member", "M0001"), ("tmall", "tb_mother123")).merged == []
    merge_suggestion_reject(suggestion=suggestion)  # already decided: stays confirmed
    suggestion.refresh_from_db()
    assert suggestion.status == MergeSuggestion.Status.CONFIRMED
