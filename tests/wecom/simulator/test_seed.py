"""wecom_sim_seed mirrors our domain into the simulator, idempotently."""

import io

from django.core.management import call_command
from django.utils import timezone

from scrm.customers.events import Channel, EventKind
from scrm.customers.models import IdentityKind
from scrm.wecom.simulator.models import (
    SimChatMessage,
    SimExternalContact,
    SimFollowUser,
    SimMember,
    SimTag,
    SimTagGroup,
)
from tests.factories import (
    CustomerFactory,
    CustomerTagFactory,
    EventFactory,
    FollowRelationFactory,
    IdentityFactory,
    StaffFactory,
    TagFactory,
)


def _seed() -> str:
    out = io.StringIO()
    call_command("wecom_sim_seed", stdout=out)
    return out.getvalue()


def _snapshot():
    return [
        list(model.objects.order_by("pk").values())
        for model in (SimMember, SimExternalContact, SimFollowUser, SimTagGroup, SimTag, SimChatMessage)
    ]


def test_seed_mirrors_staff_customers_tags_and_chat(guide, db):
    departed = StaffFactory(store=guide.store, is_active=False, departed_at=timezone.now())
    customer = CustomerFactory(name="王女士", gender=2, avatar="https://img.example/w.png")
    relation = FollowRelationFactory(staff=guide, customer=customer, remark="王姐", state="store_S001")
    IdentityFactory(customer=customer, kind=IdentityKind.UNIONID, value="oUNION1")
    tag = TagFactory(name="干皮")
    CustomerTagFactory(customer=customer, tag=tag)
    EventFactory(
        customer=customer,
        staff=guide,
        kind=EventKind.CHAT_MESSAGE,
        channel=Channel.WECOM,
        title="在吗",
        payload={"direction": "in", "content": "在吗"},
    )
    ended = FollowRelationFactory(staff=guide, ended_at=timezone.now())

    _seed()

    assert SimMember.objects.get(userid=guide.userid).status == SimMember.Status.ACTIVE
    assert SimMember.objects.get(userid=departed.userid).status == SimMember.Status.DEPARTED
    contact = SimExternalContact.objects.get(external_userid=relation.external_userid)
    assert (contact.name, contact.gender, contact.unionid) == ("王女士", 2, "oUNION1")
    follow = SimFollowUser.objects.get(contact=contact)
    assert (follow.member.userid, follow.remark, follow.state) == (guide.userid, "王姐", "store_S001")
    assert follow.tags == [tag.wecom_tag_id]
    assert SimTag.objects.get(tag_id=tag.wecom_tag_id).group.group_id == tag.group.wecom_group_id
    assert not SimExternalContact.objects.filter(external_userid=ended.external_userid).exists()
    (message,) = SimChatMessage.objects.all()
    assert (message.direction, message.payload["content"]) == ("in", "在吗")


def test_second_seed_changes_nothing(followed_customer, db):
    CustomerTagFactory(customer=followed_customer)
    EventFactory(customer=followed_customer, kind=EventKind.CHAT_MESSAGE, channel=Channel.WECOM, title="你好")
    _seed()
    before = _snapshot()

    output = _seed()

    assert _snapshot() == before
    assert "0 members, 0 contacts, 0 follow users, 0 tag groups, 0 tags, 0 chat messages" in output


def test_reseed_picks_up_a_renamed_customer(followed_customer, db):
    _seed()
    followed_customer.name = "新名字"
    followed_customer.save()

    _seed()

    assert SimExternalContact.objects.get().name == "新名字"
