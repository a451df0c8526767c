"""任务卡 in the console: create from a segment (with a CSV of codes), Chinese errors, progress, scoping."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from scrm.customers.models import LifecycleStage
from scrm.org.models import Staff
from scrm.segments.models import Segment
from scrm.taskcards.models import Coupon, Task
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db


def _when(**kw) -> str:
    return timezone.localtime(timezone.now() + dt.timedelta(**kw)).strftime("%Y-%m-%dT%H:%M")


def _post(client, **overrides):
    data = {
        "name": "老客回购",
        "script": "{客户称呼}，您的专属券 {券码}",
        "coupon_mode": "upload",
        "starts_at": _when(hours=-1),
        "deadline": _when(days=2),
        "order_window_days": "7",
    } | overrides
    return client.post("/console/tasks/new/", data)


def test_manager_creates_a_task_from_a_segment_with_uploaded_codes(client, team):
    segment = Segment.objects.create(name="复购客", spec={"stages": ["repeat"]}, store=team["store"])
    client.force_login(team["manager"].user)
    form = client.get(f"/console/tasks/new/?segment={segment.pk}").content.decode()
    assert f'<option value="{segment.pk}" selected>' in form
    codes = SimpleUploadedFile("codes.csv", "券码\nC001\nC002\nC003\nC004\n".encode())
    response = _post(client, segment=segment.pk, stores=[team["store"].pk], coupon_file=codes)
    task = Task.objects.get()
    assert response.status_code == 302 and task.spec == {"stages": ["repeat"]} and task.segment == segment
    assert sorted(Coupon.objects.values_list("code", flat=True)) == ["C001", "C002", "C003", "C004"]
    html = client.get(response["Location"]).content.decode()
    assert 'data-figure="assigned">4<' in html and 'data-figure="sent">0<' in html
    assert team["other"].name in html
    listing = client.get("/console/tasks/").content.decode()
    assert "老客回购" in listing


def test_bad_task_is_a_400_with_every_problem_in_chinese(client, team):
    client.force_login(team["manager"].user)
    response = _post(client, name="", script="{生日}", deadline="明天", coupon_mode="upload")
    text = response.content.decode()
    assert response.status_code == 400
    assert "请填写任务名称" in text and "时间格式不正确" in text and "请选择客户分群" in text
    response = _post(client, stages=["repeat"], stores=[team["store"].pk], coupon_mode="generate", script="你好")
    assert response.status_code == 400 and "{券码}" in response.content.decode()
    assert Task.objects.count() == 0


def test_a_manager_sees_only_their_stores_tasks(client, team, make_task):
    task = make_task()
    other_manager = StaffFactory(role=Staff.Role.MANAGER, store=StoreFactory())
    client.force_login(other_manager.user)
    assert client.get(f"/console/tasks/{task.pk}/").status_code == 404
    assert task.name not in client.get("/console/tasks/").content.decode()
    admin = StaffFactory(role=Staff.Role.ADMIN, store=None)
    client.force_login(admin.user)
    assert client.get(f"/console/tasks/{task.pk}/").status_code == 200


def test_a_manager_sees_a_headquarters_task_that_reaches_their_store_with_their_stores_progress(
    client, team, make_task
):
    admin = StaffFactory(role=Staff.Role.ADMIN, store=None)
    elsewhere = StoreFactory(name="别的店")
    far_guide = StaffFactory(store=elsewhere, name="远方导购")
    far = CustomerFactory(store=elsewhere, name="远方客户", lifecycle_stage=LifecycleStage.REPEAT)
    FollowRelationFactory(staff=far_guide, customer=far, external_userid="wmfar")
    task = make_task(staff=admin, stores=[team["store"], elsewhere], name="总部复购券")
    assert task.store_id is None and task.items.count() == 5

    client.force_login(team["manager"].user)
    assert "总部复购券" in client.get("/console/tasks/").content.decode()
    html = client.get(f"/console/tasks/{task.pk}/").content.decode()
    assert 'data-figure="assigned">4<' in html  # their store's four, not the brand's five
    assert "远方导购" not in html
    other_manager = StaffFactory(role=Staff.Role.MANAGER, store=StoreFactory())
    client.force_login(other_manager.user)
    assert client.get(f"/console/tasks/{task.pk}/").status_code == 404  # reaches no guide of theirs


def test_progress_exports_per_guide_with_numbers(client, team, make_task):
    import csv
    import io

    task = make_task(name="=cmd")
    client.force_login(team["manager"].user)
    response = client.get(f"/console/tasks/{task.pk}/?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["门店", "导购", "分配"]
    assert sorted((r[1], r[2], r[3]) for r in rows[1:]) == sorted(
        [(team["guide"].name, "1", "0"), (team["other"].name, "3", "0")]
    )


def test_submitting_the_form_twice_makes_one_task(client, team):
    client.force_login(team["manager"].user)
    key = "0f" * 16
    for _ in range(2):
        response = _post(client, stages=["repeat"], stores=[team["store"].pk], coupon_mode="generate", request_key=key)
        assert response.status_code == 302
    task = Task.objects.get()
    assert task.items.count() == 4 and task.coupons.count() == 4
