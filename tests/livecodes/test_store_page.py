"""The public store-code page: nearest store first by the customer's position, by store code without one."""

from decimal import Decimal

import pytest

from scrm.livecodes.models import LiveCode
from scrm.livecodes.selectors import store_codes_nearest
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stores():
    jingan = StoreFactory(code="S001", name="静安嘉里店", latitude=Decimal("31.224"), longitude=Decimal("121.447"))
    xuhui = StoreFactory(code="S002", name="徐汇港汇店", latitude=Decimal("31.196"), longitude=Decimal("121.436"))
    pudong = StoreFactory(code="S003", name="浦东正大店", latitude=Decimal("31.236"), longitude=Decimal("121.502"))
    nowhere = StoreFactory(code="S000", name="无坐标店")
    for store in (jingan, xuhui, pudong, nowhere):
        LiveCode.objects.create(
            name=f"{store.name}海报",
            channel_group="poster",
            store=store,
            state=f"p{store.code}",
            qr_code="https://x/q.png",
        )
    # The counter code is the store's code when it has one; codes not yet in WeCom are never shown.
    LiveCode.objects.create(
        name="静安柜台", channel_group="counter", store=jingan, state="c1", qr_code="https://x/counter.png"
    )
    LiveCode.objects.create(name="未同步", channel_group="counter", store=xuhui, state="c2")
    return {"jingan": jingan, "xuhui": xuhui, "pudong": pudong, "nowhere": nowhere}


def test_nearest_first_by_distance_and_stores_without_coordinates_last(stores):
    # Standing at 徐家汇: 港汇 is next door, then 静安 (~3 km), then 浦东 (~7 km).
    rows = store_codes_nearest(lat=31.195, lng=121.437)
    assert [r.store.name for r in rows] == ["徐汇港汇店", "静安嘉里店", "浦东正大店", "无坐标店"]
    assert rows[0].distance_km < 0.5 and 2.5 < rows[1].distance_km < 4
    assert rows[1].code.name == "静安柜台"
    assert rows[0].code.name == "徐汇港汇店海报"


def test_without_a_location_the_stores_are_listed_by_code(client, stores):
    html = client.get("/livecodes/stores/").content.decode()
    assert html.index("无坐标店") < html.index("静安嘉里店") < html.index("徐汇港汇店")
    assert "按我的位置找最近门店" in html
    assert "<script>" not in html  # CSP: only our static script


@pytest.mark.parametrize("query", ["lat=abc&lng=1", "lat=91&lng=0", "lat=nan&lng=inf", "lat=1"])
def test_a_bad_location_is_ignored_not_an_error(client, stores, query):
    response = client.get(f"/livecodes/stores/?{query}")
    assert response.status_code == 200 and "按我的位置找最近门店" in response.content.decode()


def test_with_a_location_the_nearest_store_leads(client, stores):
    html = client.get("/livecodes/stores/?lat=31.236&lng=121.501").content.decode()
    assert "离你最近的门店" in html
    assert html.index("浦东正大店") < html.index("静安嘉里店")
