"""客户 in the console: scoped by role, masked, filtered with Chinese errors, exported (logged), saved as segments."""

import csv
import io
from decimal import Decimal

import pytest

from scrm.customers.models import LifecycleStage
from scrm.org.models import Staff
from scrm.privacy.models import AccessLog
from scrm.segments.models import Segment, SegmentCount
from scrm.segments.tasks import snapshot_segment_counts
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(store, guide):
    other = StoreFactory(name="北京店")
    mine = CustomerFactory(
        store=store, name="=HYPERLINK(1)", phone_masked="138****8000", order_count=3, total_spend=Decimal("450.50"),
        lifecycle_stage=LifecycleStage.REPEAT,
    )  # fmt: skip
    FollowRelationFactory(staff=guide, customer=mine)
    # Owned by another store but served by this store's guide: the manager sees them too.
    served = CustomerFactory(store=other, name="跨店客户", lifecycle_stage=LifecycleStage.NEW)
    FollowRelationFactory(staff=guide, customer=served)
    theirs = CustomerFactory(store=other, name="北京客户", lifecycle_stage=LifecycleStage.REPEAT)
    return {"mine": mine, "served": served, "theirs": theirs, "other": other}


def test_manager_sees_their_store_and_admin_sees_all(client, manager, people):
    client.force_login(manager.user)
    html = client.get("/console/customers/").content.decode()
    assert "138****8000" in html and "跨店客户" in html and "北京客户" not in html
    admin = StaffFactory(role=Staff.Role.ADMIN, store=None)
    client.force_login(admin.user)
    assert "北京客户" in client.get("/console/customers/").content.decode()


def test_guides_cannot_open_the_list(client, guide):
    client.force_login(guide.user)
    assert client.get("/console/customers/").status_code == 403


def test_filter_narrows_and_bad_input_is_a_chinese_400(client, manager, people):
    client.force_login(manager.user)
    html = client.get("/console/customers/?stages=repeat").content.decode()
    assert "138****8000" in html and "跨店客户" not in html
    bad = client.get("/console/customers/?spend_min=abc&orders_min=5&orders_max=1&event_kind=add_to_cart")
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "请填写数字" in text and "订单数的下限不能大于上限" in text and "请填写最近多少小时内" in text
    assert client.get("/console/customers/?store=999999").status_code == 400


def test_csv_export_is_excel_safe_numeric_and_logged(client, manager, people):
    client.force_login(manager.user)
    response = client.get("/console/customers/?stages=repeat&export=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "客户 id" and len(rows) == 2
    row = rows[1]
    assert row[1] == "'=HYPERLINK(1)" and row[2] == "138****8000"
    assert row[7] == "3" and row[8] == "450.50"
    log = AccessLog.objects.get(action=AccessLog.Action.EXPORT_LIST)
    assert log.staff == manager and "客户名单" in log.subject and "repeat" in log.subject


def test_save_segment_counts_live_and_snapshots_daily(client, manager, people):
    client.force_login(manager.user)
    response = client.post("/console/customers/segments/", {"name": "复购客", "stages": ["repeat"]})
    segment = Segment.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/segments/{segment.pk}/")
    assert segment.spec == {"stages": ["repeat"]} and segment.store_id == manager.store_id
    html = client.get(response["Location"]).content.decode()
    assert "当前 1 位客户" in html  # the other store's repeat customer is not counted
    CustomerFactory(store=manager.store, lifecycle_stage=LifecycleStage.REPEAT)
    assert "当前 2 位客户" in client.get(response["Location"]).content.decode()
    snapshot_segment_counts()
    assert list(SegmentCount.objects.values_list("count", flat=True)) == [2]
    assert "复购客</a> · 2 位" in client.get("/console/customers/").content.decode()


def test_segment_name_required_and_unique(client, manager, people):
    client.force_login(manager.user)
    client.post("/console/customers/segments/", {"name": "A", "stages": ["repeat"]})
    again = client.post("/console/customers/segments/", {"name": "A"}, follow=True)
    assert "已有同名分群" in again.content.decode()
    assert Segment.objects.count() == 1


def test_another_stores_segment_is_404(client, manager, people):
    segment = Segment.objects.create(name="北京", spec={}, store=people["other"])
    client.force_login(manager.user)
    assert client.get(f"/console/customers/segments/{segment.pk}/").status_code == 404


def test_a_customer_in_the_list_opens_their_read_only_portrait(client, manager, guide, people):
    client.force_login(manager.user)
    html = client.get("/console/customers/").content.decode()
    link = f"/console/performance/guides/{guide.pk}/customers/{people['served'].pk}/"
    assert f'href="{link}"' in html
    page = client.get(link)
    assert page.status_code == 200 and "跨店客户" in page.content.decode()


def test_a_filter_on_a_guide_who_left_says_what_is_wrong(client, manager, guide):
    from tests.factories import StaffFactory

    gone = StaffFactory(store=manager.store, is_active=False)
    client.force_login(manager.user)
    response = client.get(f"/console/customers/?guide={gone.pk}")
    assert response.status_code == 400
    assert "筛选条件有误：" in response.content.decode() and "导购" in response.content.decode()
