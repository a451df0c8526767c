"""A segment's filter in words, as its page and its tasks show it."""

import pytest

from scrm.segments.presentation import spec_describe
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db


def test_each_condition_reads_in_chinese():
    vip = TagFactory(name="VIP")
    spec = {
        "stages": ["repeat", "loyal"],
        "churn_risk": True,
        "tags_all": [vip.pk],
        "spend_min": "500",
        "orders_max": 3,
        "birthday_month": 12,
        "channels_has": ["tmall"],
        "channels_lacks": ["wecom_friend"],
        "events": [{"kind": "add_to_cart", "hours": 48, "no_order_since": True}, {"kind": "follow_oa", "hours": 5}],
    }
    assert spec_describe(spec) == [
        "生命周期：复购客、忠诚客",
        "有流失风险",
        "含全部标签：VIP",
        "累计消费 ≥ 500",
        "订单数 ≤ 3",
        "12 月生日",
        "有：天猫",
        "没有：企业微信好友",
        "2 天内有「加入购物车」且之后未下单",
        "5 小时内有「关注公众号」",
    ]
    assert spec_describe({}) == ["全部客户"]
