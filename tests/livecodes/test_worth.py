"""What each code is worth, checked against figures worked out by hand (see each expectation)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from scrm.customers.models import FollowRelation, LifecycleStage
from scrm.livecodes.models import LiveCode, LiveCodeAdd
from scrm.livecodes.selectors import livecode_worth
from tests.factories import CustomerFactory, FollowRelationFactory, OrderFactory, StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db
TZ = timezone.get_fixed_timezone(8 * 60)


def on(month: int, day: int, year: int = 2026, hour: int = 12) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=TZ)


@pytest.fixture
def brand():
    store = StoreFactory()
    a, b = StaffFactory(store=store, name="甲"), StaffFactory(store=store, name="乙")
    poster = LiveCode.objects.create(name="海报码", channel_group="poster", store=store, state="p")
    counter = LiveCode.objects.create(name="柜台码", channel_group="counter", store=store, state="c")

    def added(code, staff, when, customer=None, **relation):
        customer = customer or CustomerFactory(store=store)
        rel = FollowRelationFactory(staff=staff, customer=customer, added_at=when, state=code.state, **relation)
        LiveCodeAdd.objects.create(code=code, relation=rel, staff=staff, added_at=when)
        return customer

    # 1: poster, 甲, 11-02. Orders on day 8 (¥100), day 48 (¥200 − ¥50 refunded), day 150 (¥300).
    c1 = added(poster, a, on(11, 2))
    OrderFactory(customer=c1, paid_at=on(11, 10), amount=Decimal("100"))
    OrderFactory(customer=c1, paid_at=on(12, 20), amount=Decimal("200"), refund_amount=Decimal("50"))
    OrderFactory(customer=c1, paid_at=on(4, 1, 2027), amount=Decimal("300"))
    # 2: poster, 乙, 11-03; deleted the guide three days later. No orders.
    added(poster, b, on(11, 3), ended_at=on(11, 6), ended_by=FollowRelation.EndedBy.CUSTOMER)
    # 3: counter, 甲, 11-05; an order before the add (not the code's), one on day 40 (¥80); now dormant.
    c3 = added(counter, a, on(11, 5))
    OrderFactory(customer=c3, paid_at=on(11, 1), amount=Decimal("999"))
    OrderFactory(customer=c3, paid_at=on(12, 15), amount=Decimal("80"))
    c3.lifecycle_stage = LifecycleStage.DORMANT
    c3.save()
    # 4: counter, 甲, 10-31: before the period.
    added(counter, a, on(10, 31))
    # 5: poster, 甲, 11-20; the guide deleted them after 10 days (not within 7). Merged into a person whose
    #    Tmall order (day 1, ¥500) counts: orders follow the merged person.
    kept = CustomerFactory(store=store)
    c5 = CustomerFactory(store=store, merged_into=kept)
    added(poster, a, on(11, 20), customer=c5, ended_at=on(11, 30), ended_by=FollowRelation.EndedBy.STAFF)
    OrderFactory(customer=kept, channel="tmall", paid_at=on(11, 21), amount=Decimal("500"))
    return {"codes": LiveCode.objects.all(), "poster": poster, "counter": counter, "a": a, "b": b}


def test_worth_per_code_matches_the_hand_computed_figures(brand):
    rows = {
        r.key: r for r in livecode_worth(codes=brand["codes"], start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30))
    }

    p = rows[brand["poster"].pk]
    assert p.label == "海报 · 海报码"
    assert (p.adds, p.deleted_7d, p.net, p.first_order_30d) == (3, 1, 2, 2)
    assert (p.gmv_30, p.gmv_90, p.gmv_180) == (Decimal("600"), Decimal("750"), Decimal("1050"))  # 100+500; +150; +300
    assert (p.buyers_180, p.repeat_buyers_180, p.repurchase_rate) == (2, 1, 0.5)
    assert (p.churned, round(p.churn_rate, 4)) == (1, 0.3333)
    assert p.per_day == {dt.date(2026, 11, 2): 1, dt.date(2026, 11, 3): 1, dt.date(2026, 11, 20): 1}

    c = rows[brand["counter"].pk]
    assert (c.adds, c.deleted_7d, c.net, c.first_order_30d) == (1, 0, 1, 0)
    assert (c.gmv_30, c.gmv_90, c.gmv_180) == (Decimal("0"), Decimal("80"), Decimal("80"))
    assert (c.repurchase_rate, c.churn_rate) == (0.0, 1.0)


def test_worth_per_guide_and_per_channel_group(brand):
    period = {"codes": brand["codes"], "start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30)}
    by_guide = {r.key: r for r in livecode_worth(by="guide", **period)}
    assert (by_guide[brand["a"].pk].adds, by_guide[brand["b"].pk].adds) == (3, 1)
    assert by_guide[brand["a"].pk].gmv_180 == Decimal("1130")  # 550 + 80 + 500
    by_channel = {r.key: r for r in livecode_worth(by="channel", **period)}
    assert (by_channel["poster"].adds, by_channel["counter"].adds) == (3, 1)
    assert by_channel["poster"].label == "海报"


def test_the_report_page_shows_the_figures_and_refuses_bad_dates(client, brand):
    from scrm.org.models import Staff

    admin = StaffFactory(role=Staff.Role.ADMIN, store=None)
    client.force_login(admin.user)
    html = client.get("/console/livecodes/report/?start=2026-11-01&end=2026-11-30").content.decode()
    assert "海报 · 海报码" in html and "1050.00" in html and "50%" in html
    response = client.get("/console/livecodes/report/?start=2026-12-01&end=2026-11-01")
    assert response.status_code == 400 and "开始日期不能晚于结束日期" in response.content.decode()
    assert client.get("/console/livecodes/report/?start=nope").status_code == 400
