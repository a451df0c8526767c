"""Identity resolution and merges: one person, one customer, and a merge can be undone."""

import datetime as dt

import pytest
from django.utils import timezone

from scrm.customers.identity import customer_merge, customer_merge_undo, customer_resolve
from scrm.customers.models import (
    Customer,
    CustomerMerge,
    CustomerTag,
    Event,
    FollowRelation,
    Gender,
    Identity,
    IdentityKind,
    Note,
    Order,
)
from scrm.materials.models import MaterialSend
from tests.factories import (
    CustomerFactory,
    CustomerTagFactory,
    EventFactory,
    FollowRelationFactory,
    IdentityFactory,
    MaterialSendFactory,
    NoteFactory,
    OrderFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

WECOM = IdentityKind.WECOM
UNIONID = IdentityKind.UNIONID
MP = IdentityKind.MP_OPENID


def test_new_identities_create_one_customer_with_all_of_them(store):
    customer = customer_resolve(
        identities=[(WECOM, "wmA", "小王"), (UNIONID, "uA", "")], defaults={"name": "小王", "store": store}
    )

    assert customer.name == "小王"
    assert customer.store == store
    assert set(customer.identities.values_list("kind", "value")) == {(WECOM, "wmA"), (UNIONID, "uA")}


def test_known_identity_finds_the_customer_and_attaches_the_missing_one():
    existing = IdentityFactory(kind=MP, value="oMP1").customer

    customer = customer_resolve(identities=[(MP, "oMP1", ""), (UNIONID, "u1", "")], defaults={"name": "新名字"})

    assert customer == existing
    assert Customer.objects.count() == 1
    assert Identity.objects.get(kind=UNIONID, value="u1").customer == existing


def test_resolve_twice_changes_nothing():
    first = customer_resolve(identities=[(WECOM, "wmA", "")], defaults={"name": "甲"})
    updated_at = Customer.objects.get(pk=first.pk).updated_at

    again = customer_resolve(identities=[(WECOM, "wmA", "")], defaults={"name": "甲", "gender": Gender.UNKNOWN})

    assert again == first
    assert Customer.objects.get(pk=first.pk).updated_at == updated_at
    assert Identity.objects.count() == 1


def test_blank_fields_are_filled_but_known_ones_never_overwritten():
    customer = CustomerFactory(name="本名", avatar="")
    IdentityFactory(customer=customer, kind=WECOM, value="wmA")

    customer_resolve(identities=[(WECOM, "wmA", "")], defaults={"name": "微信昵称", "avatar": "https://x/a.png"})

    customer.refresh_from_db()
    assert customer.name == "本名"
    assert customer.avatar == "https://x/a.png"


def test_empty_identity_values_are_ignored_and_none_at_all_is_an_error():
    customer = customer_resolve(identities=[(WECOM, "wmA", ""), (UNIONID, "", "")], defaults={})
    assert customer.identities.count() == 1
    with pytest.raises(ValueError):
        customer_resolve(identities=[(UNIONID, " ", "")], defaults={})


def test_shared_unionid_merges_the_newer_customer_into_the_older():
    older = CustomerFactory(name="小程序用户")
    Customer.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    IdentityFactory(customer=older, kind=UNIONID, value="uSHARED")
    newer = CustomerFactory(name="")
    FollowRelationFactory(customer=newer, external_userid="wmNEW")  # identity wmNEW → newer

    resolved = customer_resolve(identities=[(WECOM, "wmNEW", ""), (UNIONID, "uSHARED", "")], defaults={})

    assert resolved == older
    newer.refresh_from_db()
    assert newer.merged_into == older
    assert set(older.identities.values_list("value", flat=True)) == {"uSHARED", "wmNEW"}
    assert FollowRelation.objects.get(external_userid="wmNEW").customer == older
    merge = CustomerMerge.objects.get()
    assert (merge.keep, merge.drop) == (older, newer)
    assert "uSHARED" in merge.reason or "wmNEW" in merge.reason
    assert Event.objects.filter(customer=older, kind="customer_merged").count() == 1


@pytest.fixture
def two_customers(guide):
    keep = CustomerFactory(name="", gender=Gender.UNKNOWN, birthday=None)
    drop = CustomerFactory(name="张三", gender=Gender.FEMALE, birthday=dt.date(1990, 5, 1))
    shared_tag, own_tag = TagFactory(), TagFactory()
    CustomerTagFactory(customer=keep, tag=shared_tag)
    rows = {
        "identity": IdentityFactory(customer=drop, kind=MP, value="oDROP"),
        "relation": FollowRelationFactory(customer=drop, staff=guide, external_userid="wmDROP"),
        "dup_tag": CustomerTagFactory(customer=drop, tag=shared_tag),
        "own_tag": CustomerTagFactory(customer=drop, tag=own_tag),
        "event": EventFactory(customer=drop),
        "order": OrderFactory(customer=drop),
        "note": NoteFactory(customer=drop, staff=guide),
        "send": MaterialSendFactory(customer=drop, staff=guide),
    }
    return keep, drop, rows


def test_merge_moves_every_related_row_and_dedups_tags(two_customers):
    keep, drop, rows = two_customers

    merge = customer_merge(keep=keep, drop=drop, reason="测试")

    assert Identity.objects.filter(customer=drop).count() == 0
    assert Identity.objects.filter(customer=keep, value__in=["oDROP", "wmDROP"]).count() == 2
    assert FollowRelation.objects.get(pk=rows["relation"].pk).customer == keep
    assert Event.objects.get(pk=rows["event"].pk).customer == keep
    assert Order.objects.get(pk=rows["order"].pk).customer == keep
    assert Note.objects.get(pk=rows["note"].pk).customer == keep
    assert MaterialSend.objects.get(pk=rows["send"].pk).customer == keep
    # keep already had the shared tag: one row each, no duplicate.
    assert sorted(CustomerTag.objects.filter(customer=keep).values_list("tag_id", flat=True)) == sorted(
        [rows["dup_tag"].tag_id, rows["own_tag"].tag_id]
    )
    assert not CustomerTag.objects.filter(customer=drop).exists()
    keep.refresh_from_db()
    drop.refresh_from_db()
    assert drop.merged_into == keep
    # keep's blanks take drop's values
    assert (keep.name, keep.gender, keep.birthday) == ("张三", Gender.FEMALE, dt.date(1990, 5, 1))
    assert merge.filled_fields["name"] == ""
    event = Event.objects.get(customer=keep, kind="customer_merged")
    assert event.payload["drop_id"] == drop.pk


def test_merge_refreshes_the_kept_customers_figures(two_customers, django_capture_on_commit_callbacks):
    keep, drop, rows = two_customers

    with django_capture_on_commit_callbacks(execute=True):
        customer_merge(keep=keep, drop=drop, reason="测试")

    keep.refresh_from_db()
    assert keep.order_count == 1


def test_undo_puts_everything_back(two_customers):
    keep, drop, rows = two_customers
    merge = customer_merge(keep=keep, drop=drop, reason="测试")
    later_event = EventFactory(customer=keep)  # written after the merge: stays with keep

    customer_merge_undo(merge=merge)

    keep.refresh_from_db()
    drop.refresh_from_db()
    assert drop.merged_into is None
    assert (keep.name, keep.gender, keep.birthday) == ("", Gender.UNKNOWN, None)
    assert set(drop.identities.values_list("value", flat=True)) == {"oDROP", "wmDROP"}
    assert FollowRelation.objects.get(pk=rows["relation"].pk).customer == drop
    assert Event.objects.get(pk=rows["event"].pk).customer == drop
    assert Order.objects.get(pk=rows["order"].pk).customer == drop
    assert Note.objects.get(pk=rows["note"].pk).customer == drop
    assert MaterialSend.objects.get(pk=rows["send"].pk).customer == drop
    assert set(CustomerTag.objects.filter(customer=drop).values_list("tag_id", flat=True)) == {
        rows["dup_tag"].tag_id,
        rows["own_tag"].tag_id,
    }
    assert CustomerTag.objects.filter(customer=keep).count() == 1
    assert Event.objects.get(pk=later_event.pk).customer == keep
    assert not Event.objects.filter(kind="customer_merged").exists()
    merge.refresh_from_db()
    assert merge.undone_at is not None
    # Undoing twice is harmless.
    customer_merge_undo(merge=merge)
    assert Customer.objects.get(pk=drop.pk).merged_into is None


def test_earlier_merges_follow_into_the_new_keep():
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    customer_merge(keep=b, drop=c, reason="1")

    customer_merge(keep=a, drop=b, reason="2")

    assert Customer.objects.get(pk=c.pk).merged_into == a
    assert Customer.objects.get(pk=b.pk).merged_into == a


def test_merge_refuses_nonsense():
    a, b = CustomerFactory(), CustomerFactory()
    with pytest.raises(ValueError):
        customer_merge(keep=a, drop=a, reason="x")
    customer_merge(keep=a, drop=b, reason="x")
    with pytest.raises(ValueError):
        customer_merge(keep=a, drop=b, reason="again")
    assert CustomerMerge.objects.count() == 1


def test_three_customers_linked_at_once_end_up_in_the_oldest():
    customers = []
    for n, (kind, value) in enumerate([(WECOM, "wm1"), (MP, "mp1"), (UNIONID, "u1")]):
        c = CustomerFactory()
        Customer.objects.filter(pk=c.pk).update(created_at=timezone.now() - dt.timedelta(days=10 - n))
        IdentityFactory(customer=c, kind=kind, value=value)
        customers.append(c)

    resolved = customer_resolve(identities=[(WECOM, "wm1", ""), (MP, "mp1", ""), (UNIONID, "u1", "")], defaults={})

    assert resolved == customers[0]
    assert Identity.objects.filter(customer=customers[0]).count() == 3
    assert Customer.objects.filter(merged_into=customers[0]).count() == 2
    assert CustomerMerge.objects.count() == 2


def test_resolution_never_keys_on_a_placeholder(db):
    from scrm.customers.identity import customer_resolve

    a = customer_resolve(identities=[("mp_openid", "A", ""), ("unionid", "undefined", "")], defaults={})
    b = customer_resolve(identities=[("mp_openid", "B", ""), ("unionid", "undefined", "")], defaults={})
    assert a.pk != b.pk
