"""任务卡 for the guide: items in 今日, the card on top of the portrait, one-tap send through prepare → report."""

import datetime as dt

import pytest
from django.utils import timezone

from scrm.customers.models import Event
from scrm.taskcards import selectors
from scrm.taskcards.models import Coupon, TaskItem

pytestmark = pytest.mark.django_db


def test_today_lists_open_task_items_with_the_task_as_reason(client, team, make_task):
    make_task(name="双旦复购券")
    client.force_login(team["guide"].user)
    html = client.get("/sidebar/today/").content.decode()
    assert "任务卡 · 1 位客户待发送" in html and "双旦复购券（截止" in html and 'data-open-chat="wma1"' in html
    assert "还有任务卡待发送" in html


def test_today_groups_task_items_under_their_task_named_once(client, team, make_task):
    import datetime as dt

    from django.utils import timezone

    make_task(name="会员日邀约", deadline=timezone.now() + dt.timedelta(days=5))
    make_task(name="双旦复购券", spec={"stages": ["repeat", "new"]}, deadline=timezone.now() + dt.timedelta(days=1))
    client.force_login(team["guide"].user)
    html = client.get("/sidebar/today/").content.decode()
    section = html.split('id="today-tasks"', 1)[1].split("</section>", 1)[0]
    assert "任务卡 · 3 位客户待发送" in section
    # Nearest deadline first; each task's name once, with how many of its customers are waiting.
    assert section.count("双旦复购券（截止") == 1 and section.count("会员日邀约（截止") == 1
    assert section.index("双旦复购券") < section.index("会员日邀约")
    first, second = section.split('class="ti-task"')[1:]
    assert "2 位" in first and first.count("data-task-item=") == 2
    assert "1 位" in second and second.count("data-task-item=") == 1


def test_card_shows_only_for_the_guides_own_item(client, team, make_task):
    make_task(name="双旦复购券")
    client.force_login(team["guide"].user)
    card = client.get("/sidebar/c/wma1/tasks/").content.decode()
    assert "双旦复购券" in card and "一键发送" in card and "（发送时自动填入券码）" in card
    assert "任务卡" not in client.get("/sidebar/c/wmnew/tasks/").content.decode()  # new customer: not in segment


def _prepare_and_report(client, item, status="sent"):
    prepared = client.post(f"/sidebar/c/wma1/tasks/{item.pk}/prepare").json()
    answer = client.post(prepared["report_url"], {"status": status}, content_type="application/json")
    return prepared, answer


def test_one_tap_send_fills_the_code_completes_and_double_tap_is_harmless(client, team, make_task):
    task = make_task()
    item = task.items.get(customer=team["c"]["a1"])
    client.force_login(team["guide"].user)
    first = client.post(f"/sidebar/c/wma1/tasks/{item.pk}/prepare").json()
    second = client.post(f"/sidebar/c/wma1/tasks/{item.pk}/prepare").json()
    code = Coupon.objects.get(item=item).code
    assert code in first["msg"]["text"]["content"] and first["msg"] == second["msg"]
    for prepared in (first, second):
        answer = client.post(prepared["report_url"], {"status": "sent"}, content_type="application/json")
        assert answer.status_code == 200 and answer.json()["message"] == "已发送，任务完成"
    assert TaskItem.objects.get(pk=item.pk).state == TaskItem.State.SENT
    assert Event.objects.filter(customer=item.customer, kind="task_done").count() == 1
    assert Event.objects.filter(customer=item.customer, kind="coupon_sent").count() == 1
    again = client.post(f"/sidebar/c/wma1/tasks/{item.pk}/prepare")
    assert again.status_code == 409 and "已经完成" in again.json()["error"]
    card = client.get("/sidebar/c/wma1/tasks/").content.decode()
    assert "已完成" in card and code in card and "一键发送" not in card


def test_another_guides_item_is_a_json_404(client, team, make_task):
    task = make_task()
    theirs = task.items.get(customer=team["c"]["b0"])
    client.force_login(team["guide"].user)
    response = client.post(f"/sidebar/c/wma1/tasks/{theirs.pk}/prepare")
    assert response.status_code == 404 and "error" in response.json()
    assert client.post(f"/sidebar/c/wmb0/tasks/{theirs.pk}/prepare").status_code == 404


def test_a_forged_or_garbled_report_is_refused(client, team, make_task):
    task = make_task()
    item = task.items.get(customer=team["c"]["a1"])
    client.force_login(team["guide"].user)
    forged = client.post(f"/sidebar/c/wma1/tasks/{item.pk}/sends/{item.pk}-{'0' * 16}-{'0' * 20}", {"status": "sent"})
    assert forged.status_code == 400 and "无效" in forged.json()["error"]
    prepared = client.post(f"/sidebar/c/wma1/tasks/{item.pk}/prepare").json()
    garbled = client.post(prepared["report_url"], "{not json", content_type="application/json")
    assert garbled.status_code == 400 and TaskItem.objects.get(pk=item.pk).state == TaskItem.State.OPEN


def test_the_chats_card_lists_running_items_and_ones_sent_this_local_day_only(team, make_task):
    task = make_task(name="双旦复购券")
    item = task.items.get(customer=team["c"]["a1"])
    guide, customer_id = team["guide"], team["c"]["a1"].pk
    assert selectors.items_for_chat(staff=guide, customer_id=customer_id) == [item]
    assert selectors.items_for_chat(staff=team["other"], customer_id=customer_id) == []
    # Once the task's deadline passed, an open item no longer shows.
    assert selectors.items_for_chat(staff=guide, customer_id=customer_id, now=task.deadline) == []

    # Sent at 00:00 local time: shown all that day, gone the next (the same compiled query, other dates).
    midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate() - dt.timedelta(days=1), dt.time.min))
    TaskItem.objects.filter(pk=item.pk).update(state=TaskItem.State.SENT, sent_at=midnight)
    assert selectors.items_for_chat(staff=guide, customer_id=customer_id, now=midnight + dt.timedelta(hours=23)) == [
        item
    ]
    assert selectors.items_for_chat(staff=guide, customer_id=customer_id, now=midnight - dt.timedelta(seconds=1)) == []
    assert selectors.items_for_chat(staff=guide, customer_id=customer_id, now=midnight + dt.timedelta(days=1)) == []
