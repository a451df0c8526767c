import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from scrm.customers.models import OrderStatus
from scrm.materials.models import Material, MaterialSend
from scrm.materials.selectors import category_tree, material_list, material_stats
from tests.factories import (
    CustomerFactory,
    MaterialCategoryFactory,
    MaterialFactory,
    MaterialSendFactory,
    OrderFactory,
    StaffFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario():
    now = timezone.now()
    base = now - dt.timedelta(days=20)
    material, other = MaterialFactory(), MaterialFactory()
    g1, g2 = StaffFactory(name="小美"), StaffFactory(name="小丽")
    c1, c2, c3 = CustomerFactory(), CustomerFactory(), CustomerFactory()
    day = dt.timedelta(days=1)
    MaterialSendFactory(material=material, staff=g1, customer=c1, sent_at=base)
    MaterialSendFactory(material=material, staff=g1, customer=c1, sent_at=base + 2 * day)
    MaterialSendFactory(material=material, staff=g2, customer=c2, sent_at=base + 5 * day)
    MaterialSendFactory(
        material=material, staff=g2, customer=c3, sent_at=base + 6 * day, status=MaterialSend.Status.FAILED
    )
    MaterialSendFactory(material=other, staff=g1, customer=c3, sent_at=base + 6 * day)
    hour = dt.timedelta(hours=1)
    OrderFactory(customer=c1, paid_at=base + day, amount=Decimal("100"))  # counts
    OrderFactory(
        customer=c1,
        paid_at=base + 8 * day,
        amount=Decimal("200"),
        refund_amount=Decimal("50"),
        status=OrderStatus.PARTIALLY_REFUNDED,
    )  # counts, 6 days after the second send, net 150
    OrderFactory(customer=c1, paid_at=base - hour, amount=Decimal("999"))  # before any send
    OrderFactory(customer=c1, paid_at=base + 9 * day + hour, amount=Decimal("999"))  # > 7 days after last send
    OrderFactory(customer=c2, paid_at=base + 5 * day - hour, amount=Decimal("999"))  # just before the send
    OrderFactory(customer=c2, paid_at=base + 6 * day, amount=Decimal("999"), status=OrderStatus.REFUNDED)
    OrderFactory(customer=c2, paid_at=base + 12 * day, amount=Decimal("60"))  # exactly 7 days: counts
    OrderFactory(customer=c3, paid_at=base + 7 * day, amount=Decimal("999"))  # failed send / other material
    return {"material": material, "base": base, "g1": g1, "g2": g2}


def test_stats_match_hand_computed_values(scenario):
    stats = material_stats(material_id=scenario["material"].pk)
    assert (stats.sends, stats.customers, stats.guides) == (3, 2, 2)
    assert stats.roi_orders == 3
    assert stats.roi_gmv == Decimal("310.00")
    assert [(g.name, g.sends, g.customers) for g in stats.top_guides] == [("小美", 2, 1), ("小丽", 1, 1)]
    assert len(stats.recent_sends) == 4  # the failed one shows in the log too


def test_daily_series_covers_30_days_and_adds_up(scenario):
    stats = material_stats(material_id=scenario["material"].pk)
    assert len(stats.daily) == 30 and stats.daily[-1].day == timezone.localdate()
    assert sum(p.sends for p in stats.daily) == 3
    assert sum(p.orders for p in stats.daily) == 3
    assert sum(p.gmv for p in stats.daily) == Decimal("310")
    by_day = {p.day: p for p in stats.daily}
    first = timezone.localdate(scenario["base"])
    assert by_day[first].sends == 1
    assert by_day[first + dt.timedelta(days=1)].gmv == Decimal("100")


def test_stats_query_count_does_not_grow(scenario, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        material_stats(material_id=scenario["material"].pk)
    for _ in range(15):
        MaterialSendFactory(material=scenario["material"], staff=StaffFactory())
    with django_assert_max_num_queries(6):
        material_stats(material_id=scenario["material"].pk)


def test_material_list_filters_and_sorting():
    now = timezone.now()
    parent = MaterialCategoryFactory(name="护肤")
    child = MaterialCategoryFactory(name="精华", parent=parent)
    tag = TagFactory()
    a = MaterialFactory(title="精华液开场白", category=child, send_count=5)
    a.audience_tags.add(tag)
    b = MaterialFactory(title="会员日", content="本周会员日双倍积分", category=parent, send_count=9)
    c = MaterialFactory(kind=Material.Kind.LINK, title="品牌故事", keywords="历史 品牌", category=None)
    d = MaterialFactory(title="旧活动", valid_until=now - dt.timedelta(days=1))
    e = MaterialFactory(title="草稿", status=Material.Status.DRAFT)

    def titles(**kwargs):
        return {m.title for m in material_list(**kwargs)}

    assert titles(q="积分") == {"会员日"}
    assert titles(q="品牌") == {"品牌故事"}
    assert titles(q="积\x00分") == {"会员日"}  # a NUL (PostgreSQL refuses it) separates words
    assert titles(kind="link") == {"品牌故事"}
    assert titles(category_id=parent.pk) == {"精华液开场白", "会员日"}  # sub-categories included
    # An unknown or out-of-range id (straight from an API query string) finds nothing, never a 500.
    assert titles(category_id=child.pk + 1000) == set()
    assert titles(category_id=10**20) == set()
    assert titles(tag_id=tag.pk) == {"精华液开场白"}
    assert titles(status="draft") == {"草稿"}
    assert titles(status="expired") == {"旧活动"}
    assert d.title not in titles(sendable_only=True) and e.title not in titles(sendable_only=True)
    assert list(material_list(sort="sends"))[:2] == [b, a]
    MaterialSendFactory(material=c, sent_at=now)
    MaterialSendFactory(material=a, sent_at=now - dt.timedelta(days=1))
    assert list(material_list(sort="recent"))[:2] == [c, a]


def test_category_tree_is_depth_first_with_paths():
    root = MaterialCategoryFactory(name="护肤", order=1)
    MaterialCategoryFactory(name="彩妆", order=2)
    MaterialCategoryFactory(name="精华", parent=root)
    assert [(n.path, n.depth) for n in category_tree()] == [("护肤", 0), ("护肤 / 精华", 1), ("彩妆", 0)]
