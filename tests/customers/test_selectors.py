import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from scrm.customers.selectors import (
    Cursor,
    add_way_label,
    customer_get_for_staff,
    identity_mask,
    timeline_page,
)
from scrm.org.models import Staff
from sidebar.templatetags.timefmt import relative_time
from tests.factories import CustomerFactory, EventFactory, FollowRelationFactory, StaffFactory

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 28, 15, 30, tzinfo=SH)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (NOW - dt.timedelta(seconds=20), "刚刚"),
        (NOW + dt.timedelta(seconds=20), "刚刚"),
        (NOW - dt.timedelta(minutes=3), "3 分钟前"),
        (NOW - dt.timedelta(minutes=59), "59 分钟前"),
        (dt.datetime(2026, 11, 28, 9, 12, tzinfo=SH), "今天 09:12"),
        (dt.datetime(2026, 11, 27, 14, 5, tzinfo=SH), "昨天 14:05"),
        (dt.datetime(2026, 11, 3, 10, 0, tzinfo=SH), "11月3日 10:00"),
        (dt.datetime(2025, 12, 31, 23, 59, tzinfo=SH), "2025年12月31日 23:59"),
    ],
)
def test_relative_time_in_chinese(when, expected):
    assert relative_time(when, now=NOW) == expected


def test_relative_time_uses_the_local_day_not_utc():
    # 16:00 UTC on the 27th is already the 28th in Shanghai; the guide sees their own day.
    now = dt.datetime(2026, 11, 28, 8, 0, tzinfo=SH)
    assert relative_time(dt.datetime(2026, 11, 28, 0, 30, tzinfo=SH), now=now) == "今天 00:30"
    assert relative_time(dt.datetime(2026, 11, 27, 16, 0, tzinfo=dt.UTC), now=now) == "今天 00:00"


@pytest.mark.parametrize(
    ("value", "masked"),
    [("oAbCdEfGhIjKx9Z", "oAbC…x9Z"), ("wmEXT000123", "wmEX…123"), ("POS12345", "PO…5"), ("abc", "***")],
)
def test_identity_mask(value, masked):
    assert identity_mask(value) == masked


def test_add_way_label():
    assert add_way_label(1) == "扫描二维码"
    assert add_way_label(202) == "管理员/负责人分配"
    assert add_way_label(9999) == "未知来源"


def test_cursor_round_trips_to_the_microsecond():
    cursor = Cursor(occurred_at=dt.datetime(2026, 11, 28, 7, 1, 2, 999_999, tzinfo=dt.UTC), id=42)
    assert Cursor.decode(cursor.encode()) == cursor
    assert Cursor.decode("nonsense") is None
    assert Cursor.decode("1_") is None


@pytest.mark.django_db
def test_timeline_page_breaks_ties_on_id():
    customer = CustomerFactory()
    same = timezone.now()
    events = [EventFactory(customer=customer, occurred_at=same) for _ in range(5)]
    first = timeline_page(customer=customer, size=2)
    second = timeline_page(customer=customer, size=2, after=first.next_cursor)
    third = timeline_page(customer=customer, size=2, after=second.next_cursor)
    ids = [e.pk for page in (first, second, third) for e in page.events]
    assert ids == sorted((e.pk for e in events), reverse=True)
    assert third.next_cursor is None


@pytest.mark.django_db
def test_merged_away_customer_is_found_through_its_surviving_record():
    guide = StaffFactory()
    survivor = CustomerFactory()
    relation = FollowRelationFactory(staff=guide, customer=survivor)
    CustomerFactory(merged_into=survivor)
    assert customer_get_for_staff(staff=guide, external_userid=relation.external_userid) == survivor


@pytest.mark.django_db
def test_manager_without_store_sees_nobody():
    relation = FollowRelationFactory()
    manager = StaffFactory(store=None, role=Staff.Role.MANAGER)
    assert customer_get_for_staff(staff=manager, external_userid=relation.external_userid) is None
