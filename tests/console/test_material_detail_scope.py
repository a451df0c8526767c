"""Material detail: who sees which guides and customers, send times, the publish message."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from scrm.org.models import Staff
from tests.factories import CustomerFactory, MaterialFactory, MaterialSendFactory, StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sends():
    """One material sent by a guide of each of two stores."""
    material = MaterialFactory(title="秋冬护肤")
    own_store, other_store = StoreFactory(name="静安店"), StoreFactory(name="徐汇店")
    own = StaffFactory(name="本店导购", store=own_store)
    other = StaffFactory(name="别店导购", store=other_store)
    MaterialSendFactory(material=material, staff=own, customer=CustomerFactory(name="本店客户"))
    MaterialSendFactory(material=material, staff=other, customer=CustomerFactory(name="别店客户"))
    return material, own_store


def detail(client, staff, material) -> str:
    client.force_login(staff.user)
    response = client.get(reverse("console:material_detail", args=[material.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_manager_sees_only_their_stores_guides_and_customers(client, sends):
    material, own_store = sends
    body = detail(client, StaffFactory(role=Staff.Role.MANAGER, store=own_store), material)
    assert "本店导购" in body and "本店客户" in body
    assert "别店导购" not in body and "别店客户" not in body


def test_content_staff_see_the_send_log_without_customer_names(client, sends):
    material, _ = sends
    body = detail(client, StaffFactory(role=Staff.Role.CONTENT, store=None), material)
    assert "本店导购" in body and "别店导购" in body
    assert "本店客户" not in body and "别店客户" not in body


def test_admin_sees_every_store_and_customer(client, sends):
    material, _ = sends
    body = detail(client, StaffFactory(role=Staff.Role.ADMIN, store=None), material)
    for name in ("本店导购", "别店导购", "本店客户", "别店客户"):
        assert name in body


def test_send_log_shows_the_year_for_older_sends(client):
    material = MaterialFactory()
    now = timezone.localtime()
    last_year = now.replace(year=now.year - 1, month=6, day=15, hour=10, minute=5)
    MaterialSendFactory(material=material, sent_at=last_year)
    MaterialSendFactory(material=material, sent_at=now)
    body = detail(client, StaffFactory(role=Staff.Role.ADMIN, store=None), material)
    assert f"{now.year - 1}-06-15 10:05" in body
    assert f">{now:%m-%d %H:%M}<" in body  # this year's sends stay short


def test_publishing_ahead_of_its_start_says_when_it_becomes_sendable(client):
    start = timezone.localtime() + dt.timedelta(days=3)
    material = MaterialFactory(status="draft", valid_from=start)
    client.force_login(StaffFactory(role=Staff.Role.CONTENT, store=None).user)
    response = client.post(reverse("console:material_publish", args=[material.pk]), follow=True)
    body = response.content.decode()
    assert f"{start:%Y-%m-%d %H:%M} 生效后" in body
    assert "导购现在可以" not in body


def test_publishing_a_current_material_says_it_is_sendable_now(client):
    material = MaterialFactory(status="draft")
    client.force_login(StaffFactory(role=Staff.Role.CONTENT, store=None).user)
    body = client.post(reverse("console:material_publish", args=[material.pk]), follow=True).content.decode()
    assert "导购现在可以在侧边栏中发送" in body
