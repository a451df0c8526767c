"""企业群发 in the console (create, results, 提醒) and the guide's confirm in /dev/chat/."""

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from scrm.customers.models import FollowRelation
from scrm.taskcards.models import GroupSendBatch, Task
from scrm.wecom.simulator.models import SimGroupMsgTask, SimMsgTemplate


def _when(**kw) -> str:
    return timezone.localtime(timezone.now() + dt.timedelta(**kw)).strftime("%Y-%m-%dT%H:%M")


def _sim(team, wecom_sim):
    for staff in (team["guide"], team["other"]):
        wecom_sim.member_add(userid=staff.userid, name=staff.name)
    for rel in FollowRelation.objects.select_related("staff"):
        wecom_sim.follow_add(userid=rel.staff.userid, external_userid=rel.external_userid)


def _create(client, team, django_capture_on_commit_callbacks, **overrides):
    data = {
        "kind": "groupsend", "name": "会员日群发", "script": "会员日全场 8 折", "coupon_mode": "none",
        "stages": ["repeat"], "stores": [team["store"].pk], "starts_at": _when(hours=-1), "deadline": _when(days=2),
        "order_window_days": "7",
    } | overrides  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/console/tasks/new/", data)


def test_console_creates_a_group_send_and_shows_each_guides_result(
    client, team, wecom_sim, sendable_materials, django_capture_on_commit_callbacks
):
    _sim(team, wecom_sim)
    client.force_login(team["manager"].user)
    image = sendable_materials["image"]
    response = _create(client, team, django_capture_on_commit_callbacks, attachments=[image.pk])
    assert response.status_code == 302
    task = Task.objects.get()
    assert task.kind == Task.Kind.GROUPSEND and list(task.attachments.all()) == [image]
    template = SimMsgTemplate.objects.get(creator=team["other"].userid)
    assert template.attachments[0]["msgtype"] == "image" and template.attachments[0]["image"]["media_id"]

    # 小美 confirms in WeCom (/dev/chat/, her own browser), the manager refreshes the results.
    phone, chat = Client(), {"userid": team["other"].userid}
    page = phone.get(reverse("sim_chat"), chat).content.decode()
    assert "会员日全场 8 折" in page and "确认发送" in page
    after = phone.post(reverse("sim_groupmsg_confirm", args=[template.msgid]), chat, follow=True).content.decode()
    assert "群发已发送" in after and "会员日全场 8 折" not in after  # said, and gone from the list
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/console/tasks/{task.pk}/groupsend/refresh/")

    html = client.get(f"/console/tasks/{task.pk}/").content.decode()
    assert 'data-figure="sent">3<' in html  # 小美's three customers received it
    assert f'data-guide="{team["other"].userid}"' in html and "导购已发送" in html and "待导购确认" in html
    assert "已送达" in html and "等待导购发送" in html
    listing = client.get("/console/tasks/").content.decode()
    assert '会员日群发</a> <span class="badge">企业群发</span>' in listing


def test_remind_button_says_clearly_when_the_day_is_used_up(
    client, team, wecom_sim, django_capture_on_commit_callbacks
):
    _sim(team, wecom_sim)
    client.force_login(team["manager"].user)
    _create(client, team, django_capture_on_commit_callbacks)
    task = Task.objects.get()
    batch = task.batches.get(staff=team["guide"])
    url = f"/console/tasks/{task.pk}/groupsend/{batch.pk}/remind/"
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url)
    page = client.post(url, follow=True).content.decode()
    assert "24 小时内最多提醒 3 次" in page
    assert len(SimGroupMsgTask.objects.get(template__msgid=batch.msgid).reminded_at) == 3


def test_ignore_leaves_the_group_send_unsent(client, team, wecom_sim, django_capture_on_commit_callbacks):
    _sim(team, wecom_sim)
    client.force_login(team["manager"].user)
    _create(client, team, django_capture_on_commit_callbacks)
    batch = GroupSendBatch.objects.get(staff=team["guide"])
    phone, chat = Client(), {"userid": team["guide"].userid}
    phone.post(reverse("sim_groupmsg_ignore", args=[batch.msgid]), chat)
    assert "确认发送" not in phone.get(reverse("sim_chat"), chat).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/console/tasks/{batch.task_id}/groupsend/refresh/")
    batch.refresh_from_db()
    assert batch.state == GroupSendBatch.State.CREATED


def test_bad_group_send_form_is_a_400_in_chinese(client, team):
    client.force_login(team["manager"].user)
    data = {"kind": "groupsend", "name": "x", "script": "{客户称呼}好", "coupon_mode": "none", "stages": ["repeat"]}
    data |= {"stores": [team["store"].pk], "starts_at": _when(hours=-1), "deadline": _when(days=1)}
    response = client.post("/console/tasks/new/", data | {"order_window_days": "7"})
    assert response.status_code == 400 and "不能使用占位符" in response.content.decode()


def test_customer_list_shows_each_customers_remaining_monthly_quota(
    client, team, wecom_sim, settings, django_capture_on_commit_callbacks
):
    settings.GROUPSEND_MONTHLY_LIMIT = 4
    _sim(team, wecom_sim)
    client.force_login(team["manager"].user)
    _create(client, team, django_capture_on_commit_callbacks)
    batch = GroupSendBatch.objects.get(staff=team["other"])
    Client().post(reverse("sim_groupmsg_confirm", args=[batch.msgid]), {"userid": team["other"].userid})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/console/tasks/{batch.task_id}/groupsend/refresh/")

    html = client.get("/console/customers/").content.decode()
    b0, a1 = team["c"]["b0"].pk, team["c"]["a1"].pk
    assert f'<tr data-customer="{b0}">' in html
    row = lambda pk: html.split(f'<tr data-customer="{pk}">')[1].split("</tr>")[0]  # noqa: E731
    assert "data-quota-left>3<" in row(b0) and "data-quota-left>4<" in row(a1)
    detail = client.get(f"/console/tasks/{batch.task_id}/").content.decode()
    assert "data-quota-left>3<" in detail and "data-quota-left>4<" in detail
