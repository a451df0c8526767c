import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from scrm.customers.events import Channel, EventKind
from scrm.customers.models import IdentityKind
from scrm.customers.services import customer_refresh_figures, phone_hash
from scrm.org.models import Staff
from tests.factories import (
    CustomerTagFactory,
    EventFactory,
    FollowRelationFactory,
    IdentityFactory,
    NoteFactory,
    OrderFactory,
    OrderLineFactory,
    StaffFactory,
    TagFactory,
    TagGroupFactory,
)


@pytest.fixture
def relation(followed_customer, guide):
    return followed_customer.follow_relations.get(staff=guide)


@pytest.fixture
def ext(relation) -> str:
    """The external_userid the guide opens the sidebar with."""
    return relation.external_userid


@pytest.fixture
def staff_client(client):
    """staff_client(staff) → a client signed in as that staff member."""

    def login(staff: Staff):
        client.force_login(staff.user)
        return client

    return login


@pytest.fixture
def tag_groups(db):
    """Two WeCom tag groups with tags, plus a deleted tag and a deleted group that must never show."""
    skin = TagGroupFactory(name="肤质", order=2)
    budget = TagGroupFactory(name="预算", order=1)
    tags = {
        "干皮": TagFactory(group=skin, name="干皮"),
        "油皮": TagFactory(group=skin, name="油皮"),
        "高预算": TagFactory(group=budget, name="高预算"),
        "已删标签": TagFactory(group=skin, name="已删标签", deleted=True),
        "删组标签": TagFactory(group=TagGroupFactory(name="已删组", deleted=True), name="删组标签"),
    }
    return tags


@pytest.fixture
def populate(guide):
    """populate(customer, n) adds n of everything the portrait and timeline show."""

    def fill(customer, n: int):
        now = timezone.now()
        other = StaffFactory(store=guide.store)
        FollowRelationFactory(staff=other, customer=customer)
        for i in range(n):
            IdentityFactory(customer=customer, kind=IdentityKind.MP_OPENID, value=f"oMP{uuid.uuid4().hex}")
            order = OrderFactory(customer=customer, paid_at=now - dt.timedelta(days=30 * (i + 1)), staff=guide)
            OrderLineFactory(order=order)
            OrderLineFactory(order=order, name="面霜 50ml", amount=Decimal("199.00"), unit_price=Decimal("199.00"))
            CustomerTagFactory(customer=customer, tag=TagFactory())
            NoteFactory(customer=customer, staff=guide, body=f"跟进 {i}")
            EventFactory(customer=customer, occurred_at=now - dt.timedelta(minutes=i), staff=guide)
            EventFactory(customer=customer, kind=EventKind.ORDER_PAID, channel=Channel.TMALL, title=f"下单 {i}")
        customer_refresh_figures(customer_id=customer.pk)

    return fill


@pytest.fixture
def rich_customer(followed_customer, guide, tag_groups):
    """A customer with identities on several channels, orders and tags."""
    c = followed_customer
    IdentityFactory(customer=c, kind=IdentityKind.UNIONID, value="oUnIoNabcdefghijx9Z")
    IdentityFactory(customer=c, kind=IdentityKind.PHONE, value=phone_hash("13800135678"), display="138****5678")
    IdentityFactory(customer=c, kind=IdentityKind.TMALL, value="tmall_member_00012345")
    CustomerTagFactory(customer=c, tag=tag_groups["干皮"])
    CustomerTagFactory(customer=c, tag=tag_groups["已删标签"])
    now = timezone.now()
    for days, amount in ((95, "300.00"), (65, "200.00"), (35, "400.00")):
        order = OrderFactory(customer=c, paid_at=now - dt.timedelta(days=days), amount=Decimal(amount))
        OrderLineFactory(order=order, name="修护精华液 30ml", amount=Decimal(amount))
    customer_refresh_figures(customer_id=c.pk)
    c.refresh_from_db()
    return c
