"""Weak links yield (#12): a link only a phone made gives way when new strong evidence contradicts it.

The mother and her child share a phone. The child's Tmall account was merged into the mother by that
phone; later the account arrives with the child's own unionid. The request succeeds, the account and its
orders and events move to the customer the strong evidence names, the phone is marked shared, and the
merge history says why."""

import pytest

from scrm.customers.identity_merge import merge_suggestion_confirm
from scrm.customers.models import Customer, CustomerMerge, Event, Identity, IdentityConflict, MergeSuggestion, Order

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
PAID = "2026-11-01T08:00:00+08:00"


def identify(writer, verified=(), **identities):
    response = writer.post("/api/v1/customers/identify", {"identities": identities, "verified": list(verified)})
    assert response.status_code in (200, 201), response.json()
    return response.json()


@pytest.fixture
def family(writer, settings):
    """The mother (her unionid, Tmall account, phone) and the child's Tmall account merged in by the phone."""
    settings.IDENTITY_PHONE_POLICY = "merge"
    mother = identify(writer, unionid="oUnionMother1", tmall="tb_mother1", phone=PHONE)["id"]
    child = identify(writer, tmall="tb_child123", phone=PHONE)
    assert child["outcome"] == "merged" and child["id"] == mother
    writer.put(
        "/api/v1/orders/tmall/TB-CHILD-1", {"identities": {"tmall": "tb_child123"}, "paid_at": PAID, "amount": "99.00"}
    )
    writer.post(
        "/api/v1/events",
        {
            "source": "tmall",
            "events": [
                {
                    "id": "v1",
                    "kind": "mp_product_view",
                    "occurred_at": PAID,
                    "channel": "tmall",
                    "identities": {"tmall": "tb_child123"},
                }
            ],
        },
    )
    assert Order.objects.get().customer_id == mother
    return mother


def test_the_childs_own_unionid_takes_the_account_orders_and_events_away_from_the_mother(writer, family):
    mother = family

    answer = identify(writer, tmall="tb_child123", unionid="oUnionChild9")

    child = answer["id"]
    assert child != mother
    assert Identity.objects.get(value="tb_child123").customer_id == child
    assert Identity.objects.get(value="oUnionChild9").customer_id == child
    assert Order.objects.get(order_no="TB-CHILD-1").customer_id == child
    assert Event.objects.get(dedupe_key="api:tmall:v1").customer_id == child
    assert set(Identity.objects.filter(customer_id=mother).values_list("value", flat=True)) >= {
        "oUnionMother1",
        "tb_mother1",
    }
    assert Identity.objects.get(kind="phone").shared
    merge = CustomerMerge.objects.get(key="phone")
    assert merge.undone_at is not None and "手机号多人共用" in merge.undo_reason
    assert not IdentityConflict.objects.exists()
    # The figures follow: the child's order is no longer the mother's.
    assert writer.get(f"/api/v1/customers/{mother}").json()["figures"]["order_count"] == 0


def test_the_shared_phone_merges_nobody_afterwards(writer, family):
    identify(writer, tmall="tb_child123", unionid="oUnionChild9")

    third = identify(writer, pos_member="M0001", phone=PHONE, verified=["phone"])

    assert third["outcome"] in ("created", "matched")
    assert Customer.objects.filter(merged_into__isnull=True).count() == 3


def test_the_account_joins_the_record_that_already_has_the_childs_unionid(writer, family):
    own = identify(writer, unionid="oUnionChild9", mp_openid="oMPchild9")["id"]

    answer = identify(writer, tmall="tb_child123", unionid="oUnionChild9")

    assert Identity.objects.get(value="tb_child123").customer.pk == answer["id"]
    assert Identity.objects.get(value="oMPchild9").customer_id == answer["id"]
    assert Order.objects.get(order_no="TB-CHILD-1").customer_id == answer["id"]
    assert Customer.objects.get(pk=own).merged_into_id in (None, answer["id"])


def test_a_merge_a_person_confirmed_does_not_yield_it_is_a_conflict_for_review(writer, settings):
    settings.IDENTITY_PHONE_POLICY = "strict"
    mother = identify(writer, unionid="oUnionMother1", tmall="tb_mother1", phone=PHONE)["id"]
    identify(writer, tmall="tb_child123", phone=PHONE)
    merge_suggestion_confirm(suggestion=MergeSuggestion.objects.get())

    answer = identify(writer, tmall="tb_child123", unionid="oUnionChild9")

    assert answer["outcome"] == "conflict" and answer["id"] == mother
    assert Identity.objects.get(value="tb_child123").customer_id == mother
    assert IdentityConflict.objects.filter(kind="unionid").exists()


def test_a_link_strong_keys_made_does_not_yield(writer):
    mother = identify(writer, unionid="oUnionMother1", tmall="tb_mother1")["id"]

    answer = identify(writer, tmall="tb_mother1", unionid="oUnionOther2")

    assert answer["outcome"] == "conflict" and answer["id"] == mother
    assert not Identity.objects.filter(value="oUnionOther2").exists()
