"""自动化任务 in the console: create (Chinese errors), list with live items, enable / disable, scoping."""

import pytest
from django.utils import timezone

from scrm.today.models import ReminderItem, ReminderKind, SopRule
from tests.factories import CustomerFactory, FollowRelationFactory, MaterialFactory, StoreFactory

pytestmark = pytest.mark.django_db


def _post(client, **overrides):
    data = {"name": "新客跟进", "trigger": "friend_added", "days": "0，1,3,7", "window_days": "3"} | overrides
    return client.post("/console/sop/", data)


def test_manager_creates_a_rule_and_the_guide_gets_the_item(client, manager, guide, django_capture_on_commit_callbacks):
    material = MaterialFactory(title="新客福利")
    customer = CustomerFactory(store=guide.store, name="新客小王")
    FollowRelationFactory(staff=guide, customer=customer, added_at=timezone.now())
    client.force_login(manager.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, material=material.pk)
    assert response.status_code == 302
    rule = SopRule.objects.get()
    assert rule.days == [0, 1, 3, 7] and rule.store == manager.store
    item = ReminderItem.objects.get(kind=ReminderKind.SOP)
    assert (item.customer, item.staff) == (customer, guide)
    page = client.get("/console/sop/").content.decode()
    assert "新客跟进" in page and 'data-figure="live">1<' in page

    client.post(f"/console/sop/{rule.pk}/toggle/", {"enabled": "0"})
    rule.refresh_from_db()
    assert not rule.enabled
    assert ReminderItem.objects.get(kind=ReminderKind.SOP).state == ReminderItem.State.EXPIRED


def test_bad_rule_is_a_400_in_chinese(client, manager):
    client.force_login(manager.user)
    response = _post(client, days="明天", name="")
    text = response.content.decode()
    assert response.status_code == 400
    assert "请填写规则名称" in text and "天数请填写数字" in text and "请选择要发送的素材" in text
    assert _post(client, days="400", material=MaterialFactory().pk).status_code == 400
    assert SopRule.objects.count() == 0


def test_managers_see_and_switch_only_their_stores_rules(client, manager):
    other = SopRule.objects.create(
        name="别店规则", trigger="birthday", days=[0], material=MaterialFactory(), store=StoreFactory()
    )
    client.force_login(manager.user)
    assert "别店规则" not in client.get("/console/sop/").content.decode()
    assert client.post(f"/console/sop/{other.pk}/toggle/", {"enabled": "0"}).status_code == 404


def test_managers_see_headquarters_rules_that_fill_their_guides_today_but_cannot_switch_them(client, manager):
    brand = SopRule.objects.create(name="总部回访", trigger="birthday", days=[0], material=MaterialFactory())
    client.force_login(manager.user)
    page = client.get("/console/sop/").content.decode()
    assert "总部回访" in page and "总部设置" in page
    assert f"/console/sop/{brand.pk}/toggle/" not in page
    assert client.post(f"/console/sop/{brand.pk}/toggle/", {"enabled": "0"}).status_code == 404
