"""The "since you last talked" digest: what happened across channels after the guide last wrote."""

import datetime as dt

import pytest

from scrm.customers.events import Channel, EventKind
from scrm.today.selectors import since_last_talk
from tests.factories import EventFactory, StaffFactory
from tests.today.conftest import NOW

pytestmark = pytest.mark.django_db


def _event(customer, kind, hours_ago, **fields):
    return EventFactory(customer=customer, kind=kind, occurred_at=NOW - dt.timedelta(hours=hours_ago), **fields)


def test_digest_groups_what_happened_after_the_last_outgoing_message(guide, served):
    customer = served()
    _event(customer, EventKind.ORDER_PAID, 50, channel=Channel.TMALL, title="天猫下单 ¥199")  # before: not news
    _event(customer, EventKind.CHAT_MESSAGE, 48, staff=guide, payload={"direction": "out"}, title="您好")
    _event(customer, EventKind.CHAT_MESSAGE, 47, payload={"direction": "in"}, title="好的")  # chat is not news
    _event(customer, EventKind.MP_VISIT, 30, channel=Channel.MP, title="访问小程序首页")
    _event(customer, EventKind.MP_VISIT, 20, channel=Channel.MP, title="访问小程序会员中心")
    _event(customer, EventKind.ORDER_PAID, 10, channel=Channel.POS, title="门店下单 ¥399")
    _event(customer, EventKind.OA_ARTICLE_READ, 5, channel=Channel.OA, title="阅读《换季护肤》")
    _event(customer, EventKind.TRANSFER, 4, staff=StaffFactory(), title="从 李 转接给 王")
    _event(customer, EventKind.MATERIAL_SENT, 1, staff=StaffFactory(), title="别的导购发了素材")  # not news

    digest = since_last_talk(customer_id=customer.pk, staff=guide, now=NOW)
    assert digest.since == NOW - dt.timedelta(hours=48)
    assert [(line.kind, line.count, line.latest_title) for line in digest.lines] == [
        ("transfer", 1, "从 李 转接给 王"),
        ("oa_article_read", 1, "阅读《换季护肤》"),
        ("order_paid", 1, "门店下单 ¥399"),
        ("mp_visit", 2, "访问小程序会员中心"),
    ]


def test_a_material_sent_by_the_guide_counts_as_talking(guide, served):
    customer = served()
    _event(customer, EventKind.ADD_TO_CART, 3, title="加购")
    _event(customer, EventKind.MATERIAL_SENT, 2, staff=guide, title="发了素材")
    assert since_last_talk(customer_id=customer.pk, staff=guide, now=NOW).lines == []


def test_never_talked_looks_back_thirty_days(guide, served):
    customer = served()
    _event(customer, EventKind.STORE_VISIT, 24 * 31, title="到店（太早）")
    _event(customer, EventKind.STORE_VISIT, 24 * 2, title="到店")
    digest = since_last_talk(customer_id=customer.pk, staff=guide, now=NOW)
    assert digest.since is None and [line.latest_title for line in digest.lines] == ["到店"]
