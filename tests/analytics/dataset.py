"""A small hand-written data set whose figures are worked out by hand in tests/analytics.

Days D1..D7 are 2026-03-01..07 in Asia/Shanghai. Three guides: g1 and g2 in store A, g3 in B.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from scrm.analytics.services import rollup_days
from scrm.customers.events import Channel, EventKind
from scrm.customers.models import CustomerTag, FollowRelation, Note, OrderStatus
from scrm.materials.models import MaterialSend
from scrm.org.models import Staff
from tests.factories import (
    CustomerFactory,
    CustomerTagFactory,
    EventFactory,
    FollowRelationFactory,
    MaterialFactory,
    MaterialSendFactory,
    NoteFactory,
    OrderFactory,
    StaffFactory,
    StoreFactory,
)

BJ = ZoneInfo("Asia/Shanghai")
D = {i: dt.date(2026, 3, i) for i in range(1, 8)}


def bj(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=BJ)


def build() -> SimpleNamespace:
    store_a, store_b = StoreFactory(name="静安店"), StoreFactory(name="徐汇店")
    g1 = StaffFactory(store=store_a, name="王小美")
    g2 = StaffFactory(store=store_a, name="李娜")
    g3 = StaffFactory(store=store_b, name="张伟")
    manager_a = StaffFactory(store=store_a, role=Staff.Role.MANAGER, name="店长甲")
    c1, c2, c3, c4, c5, c6 = (CustomerFactory(store=store_a) for _ in range(6))

    def relation(staff, customer, added_at, **kwargs):
        return FollowRelationFactory(staff=staff, customer=customer, added_at=added_at, **kwargs)

    relation(g1, c1, bj(1, 10))
    relation(g1, c2, bj(1, 23, 30))  # 15:30 UTC: still the 1st in Beijing
    relation(g1, c3, bj(2, 9), ended_at=bj(3, 12), ended_by=FollowRelation.EndedBy.CUSTOMER)
    relation(g2, c4, bj(2, 10))
    relation(g2, c5, bj(3, 10), ended_at=bj(4, 9), ended_by=FollowRelation.EndedBy.STAFF)
    relation(g3, c6, bj(1, 8))

    orders = SimpleNamespace(
        o1=OrderFactory(customer=c1, staff=g1, paid_at=bj(1, 12), amount=Decimal("100")),
        o2=OrderFactory(
            customer=c1,
            staff=g1,
            paid_at=bj(3, 23, 30),
            amount=Decimal("200"),
            refund_amount=Decimal("50"),
            status=OrderStatus.PARTIALLY_REFUNDED,
        ),
        # 00:30 on the 4th in Beijing is 16:30 UTC on the 3rd: it belongs to the 4th.
        o3=OrderFactory(customer=c2, staff=g1, paid_at=bj(4, 0, 30), amount=Decimal("300")),
        o4=OrderFactory(
            customer=c3,
            staff=g1,
            paid_at=bj(2, 12),
            amount=Decimal("80"),
            refund_amount=Decimal("80"),
            status=OrderStatus.REFUNDED,
        ),
        o5=OrderFactory(customer=c4, staff=g2, paid_at=bj(2, 9), amount=Decimal("120")),  # before the add
        o6=OrderFactory(customer=c4, staff=g2, paid_at=bj(5, 10), amount=Decimal("60")),
        o7=OrderFactory(customer=c6, staff=g3, paid_at=bj(2, 10), amount=Decimal("500")),
        o8=OrderFactory(customer=c6, staff=None, paid_at=bj(2, 11), amount=Decimal("999")),
    )

    m1, m2 = MaterialFactory(title="春季新品话术"), MaterialFactory(title="会员日海报")
    MaterialSendFactory(material=m1, staff=g1, customer=c1, sent_at=bj(1, 11))
    MaterialSendFactory(material=m1, staff=g1, customer=c1, sent_at=bj(2, 11))
    MaterialSendFactory(material=m2, staff=g1, customer=c2, sent_at=bj(2, 12))
    MaterialSendFactory(material=m2, staff=g1, customer=c1, sent_at=bj(4, 11))
    MaterialSendFactory(material=m1, staff=g1, customer=c3, sent_at=bj(2, 13), status=MaterialSend.Status.FAILED)
    MaterialSendFactory(material=m1, staff=g2, customer=c4, sent_at=bj(3, 11))

    def note(staff, customer, created_at, **kwargs):
        row = NoteFactory(staff=staff, customer=customer, **kwargs)
        Note.objects.filter(pk=row.pk).update(created_at=created_at)

    note(g1, c1, bj(1, 15), next_contact_on=D[2])
    note(g1, c2, bj(2, 15), next_contact_on=D[5], done=True)
    note(g2, c4, bj(3, 15), next_contact_on=D[4])
    note(g1, c1, bj(4, 15))

    def tag(customer, created_at):
        row = CustomerTagFactory(customer=customer)
        CustomerTag.objects.filter(pk=row.pk).update(created_at=created_at)

    tag(c1, bj(1, 9))
    tag(c3, bj(2, 9))
    tag(c4, bj(6, 9))  # after the range the tests look at

    def chat(customer, staff, at, direction):
        EventFactory(
            customer=customer,
            staff=staff,
            occurred_at=at,
            kind=EventKind.CHAT_MESSAGE,
            channel=Channel.WECOM,
            title="聊天",
            payload={"direction": direction},
        )

    chat(c1, g1, bj(1, 10, 0), "in")
    chat(c1, g1, bj(1, 10, 1, 30), "out")  # 90 s
    chat(c1, g1, bj(1, 10, 5), "in")  # later messages of the day do not count
    chat(c1, g1, bj(1, 10, 6), "out")
    chat(c2, None, bj(2, 9, 0), "in")
    chat(c2, g1, bj(2, 9, 0, 20), "out")  # 20 s
    chat(c1, g1, bj(2, 20, 0), "in")
    chat(c1, g1, bj(2, 20, 10), "out")  # 600 s
    chat(c4, g2, bj(3, 10), "in")  # never answered
    chat(c6, g3, bj(1, 8, 0), "out")
    chat(c6, g3, bj(1, 8, 5), "in")
    chat(c6, g3, bj(1, 8, 35), "out")  # 1800 s

    return SimpleNamespace(
        store_a=store_a,
        store_b=store_b,
        g1=g1,
        g2=g2,
        g3=g3,
        manager_a=manager_a,
        customers=(c1, c2, c3, c4, c5, c6),
        orders=orders,
    )


def build_rolled_up() -> SimpleNamespace:
    data = build()
    rollup_days(first=D[1], last=D[7])
    return data
