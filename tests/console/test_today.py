"""Console 今日提醒: per guide and store figures, scoped by role; bad filters are a Chinese 400."""

import datetime as dt

import pytest
from django.utils import timezone

from scrm.org.models import Staff
from scrm.today.services import reminders_complete_for_contact, reminders_refresh
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_stores(store, guide):
    other_store = StoreFactory(name="北京店")
    other_guide = StaffFactory(store=other_store, name="北京导购")
    today = timezone.localdate()
    for g in (guide, other_guide):
        for n in range(2):
            c = CustomerFactory(birthday=(today + dt.timedelta(days=n)).replace(year=1990))
            FollowRelationFactory(staff=g, customer=c)
            reminders_refresh(customer_ids=[c.pk])
    first = guide.reminders.first()
    reminders_complete_for_contact(staff_id=guide.pk, customer_id=first.customer_id, via="material")
    return other_guide


def test_manager_sees_their_store_only(client, manager, guide, two_stores):
    client.force_login(manager.user)
    html = client.get("/console/today/").content.decode()
    assert guide.name in html and "北京导购" not in html
    assert "门店合计" in html and "今日提醒" in html


def test_admin_sees_every_store_and_can_filter(client, guide, two_stores):
    admin = StaffFactory(role=Staff.Role.ADMIN, store=None)
    client.force_login(admin.user)
    html = client.get("/console/today/?days=30").content.decode()
    assert guide.name in html and "北京导购" in html and "全部合计" in html
    only = client.get(f"/console/today/?store={two_stores.store_id}").content.decode()
    assert "北京导购" in only and guide.name not in only


@pytest.mark.parametrize("query", ["?days=9", "?store=999999", "?store=abc"])
def test_bad_filters_answer_400_in_chinese(client, manager, query):
    client.force_login(manager.user)
    response = client.get("/console/today/" + query)
    assert response.status_code == 400
    assert "统计周期" in response.content.decode() or "门店不存在" in response.content.decode()


def test_guides_cannot_open_it(guide_client):
    assert guide_client.get("/console/today/").status_code == 403
