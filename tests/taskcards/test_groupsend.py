"""企业群发 tasks against the WeCom simulator over real HTTP: creation, submit, confirm, pulled results."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from scrm.customers.models import Event, FollowRelation
from scrm.taskcards import groupsend, groupsend_actions, groupsend_results, quota, selectors
from scrm.taskcards.groupsend_results import GroupSendError
from scrm.taskcards.models import GroupSendBatch, GroupSendResult, Task, TaskItem
from scrm.wecom import api
from scrm.wecom.errors import WeComError
from scrm.wecom.simulator import groupmsg
from scrm.wecom.simulator.models import SimGroupMsgResult, SimMsgTemplate

TEXT = "双十二会员日，全场 8 折"


@pytest.fixture
def sim_team(team, wecom_sim):
    """The team's guides and relations mirrored in the simulator, except b1, who deleted 小美 in WeCom."""
    for staff in (team["guide"], team["other"]):
        wecom_sim.member_add(userid=staff.userid, name=staff.name)
    for rel in FollowRelation.objects.select_related("staff"):
        if rel.external_userid != "wmb1":
            wecom_sim.follow_add(userid=rel.staff.userid, external_userid=rel.external_userid)
    return team


@pytest.fixture
def make_groupsend(make_task, django_capture_on_commit_callbacks):
    def make(**overrides) -> Task:
        values = {"kind": Task.Kind.GROUPSEND, "script": TEXT, "coupon_mode": Task.CouponMode.NONE} | overrides
        with django_capture_on_commit_callbacks(execute=True):
            return make_task(**values)

    return make


def _batch(task: Task, staff) -> GroupSendBatch:
    return task.batches.get(staff=staff)


def _status(task: Task, name: str) -> tuple[str, int | None]:
    item = task.items.get(customer__name=name)
    return item.state, item.wecom_status


def test_group_send_from_creation_to_pulled_results(sim_team, make_groupsend):
    task = make_groupsend()

    # One WeCom group send per guide, with the guide as sender and only their customers.
    mine, others = _batch(task, sim_team["guide"]), _batch(task, sim_team["other"])
    assert mine.state == others.state == GroupSendBatch.State.CREATED
    sent = SimMsgTemplate.objects.get(msgid=others.msgid)
    assert sent.creator == sim_team["other"].userid and sent.text == TEXT
    assert sorted(sent.external_userids) == ["wmb0", "wmshared"]
    assert others.fail_list == ["wmb1"]  # no longer a friend in WeCom
    assert _status(task, "b1") == (TaskItem.State.OPEN, GroupSendResult.NOT_FRIEND)

    # 小美 confirms in WeCom; the guide has not yet.
    groupmsg.member_confirm(template=sent, userid=sim_team["other"].userid)
    assert groupsend_results.task_groupsend_pull(task=task) == 2

    others.refresh_from_db()
    mine.refresh_from_db()
    assert others.state == GroupSendBatch.State.SENT and others.sent_at
    assert mine.state == GroupSendBatch.State.CREATED
    assert _status(task, "b0") == (TaskItem.State.SENT, GroupSendResult.RECEIVED)
    assert _status(task, "a1") == (TaskItem.State.OPEN, None)
    progress = selectors.task_progress(task=task)
    assert (progress.total.assigned, progress.total.sent) == (4, 2)
    assert Event.objects.filter(customer=sim_team["c"]["b0"], kind="task_done").count() == 1

    # Pulling again changes nothing and records nothing twice.
    assert groupsend_results.task_groupsend_pull(task=task) == 0
    assert Event.objects.filter(customer=sim_team["c"]["b0"], kind="task_done").count() == 1


def test_group_send_items_are_not_one_tap_cards(sim_team, make_groupsend):
    make_groupsend()
    assert selectors.open_items_for_guide(staff=sim_team["guide"]) == []
    assert selectors.items_for_chat(staff=sim_team["guide"], customer_id=sim_team["c"]["a1"].pk) == []


def test_a_retry_never_makes_a_second_group_send(sim_team, make_groupsend):
    task = make_groupsend(starts_at=timezone.now() + dt.timedelta(hours=1))
    batch = _batch(task, sim_team["guide"])
    assert batch.state == GroupSendBatch.State.PLANNED  # not started yet: nothing sent

    # The worker made the group send, then died before storing the msgid.
    made = api.add_msg_template(sender=sim_team["guide"].userid, external_userids=["wma1"], text=TEXT)
    GroupSendBatch.objects.filter(pk=batch.pk).update(submitting_at=timezone.now())
    later = timezone.now() + dt.timedelta(hours=2)
    task.refresh_from_db()

    assert groupsend.task_groupsend_submit(task=task, now=later) == 2
    batch.refresh_from_db()
    assert batch.msgid == made["msgid"]
    assert SimMsgTemplate.objects.filter(creator=sim_team["guide"].userid).count() == 1
    # And submitting again is a no-op.
    assert groupsend.task_groupsend_submit(task=task, now=later) == 0
    assert SimMsgTemplate.objects.count() == 2


def test_batches_stay_within_the_size_per_call(sim_team, make_groupsend, settings):
    settings.GROUPSEND_BATCH_SIZE = 2
    task = make_groupsend()
    sizes = sorted(b.items.count() for b in task.batches.filter(staff=sim_team["other"]))
    assert sizes == [1, 2]
    assert SimMsgTemplate.objects.filter(creator=sim_team["other"].userid).count() == 2


def test_remind_is_refused_with_a_clear_message_after_three_a_day(sim_team, make_groupsend):
    batch = _batch(make_groupsend(), sim_team["guide"])
    for left in (2, 1, 0):
        with_commit = groupsend_actions.batch_remind_request(batch=batch)
        assert with_commit == left
    with pytest.raises(GroupSendError) as exc:
        groupsend_actions.batch_remind_request(batch=batch)
    assert exc.value.status == 429 and "最多提醒 3 次" in exc.value.message


def test_simulator_refuses_a_fourth_reminder_in_a_day(sim_team, make_groupsend):
    batch = _batch(make_groupsend(), sim_team["guide"])
    for _ in range(3):
        api.remind_groupmsg_send(msgid=batch.msgid)
    with pytest.raises(WeComError) as exc:
        api.remind_groupmsg_send(msgid=batch.msgid)
    assert exc.value.errcode == 45009
    groupsend_results.batch_remind_send(batch=batch)  # what the Celery task does: the reason is kept
    batch.refresh_from_db()
    assert "最多提醒 3 次" in batch.error


def test_customers_at_the_monthly_quota_are_left_out(sim_team, make_groupsend, settings):
    settings.GROUPSEND_MONTHLY_LIMIT = 1
    first = make_groupsend(name="第一次")
    groupmsg.member_confirm(
        template=SimMsgTemplate.objects.get(msgid=_batch(first, sim_team["other"]).msgid),
        userid=sim_team["other"].userid,
    )
    groupsend_results.task_groupsend_pull(task=first)
    c = sim_team["c"]
    assert quota.quota_remaining(customer_ids=[c["b0"].pk, c["a1"].pk]) == {c["b0"].pk: 0, c["a1"].pk: 1}

    second = make_groupsend(name="第二次")
    assert second.quota_excluded == 2  # b0 and a0 received the first one
    assert sorted(second.items.values_list("customer__name", flat=True)) == ["a1", "b1"]


def test_simulator_fails_a_customer_over_the_monthly_limit(sim_team, make_groupsend, settings):
    settings.GROUPSEND_MONTHLY_LIMIT = 1
    first, second = make_groupsend(name="一"), None
    # WeCom, not the product, enforces it when the member sends: a second send made the same day.
    second = api.add_msg_template(sender=sim_team["guide"].userid, external_userids=["wma1"], text="再来一条")
    groupmsg.member_confirm(
        template=SimMsgTemplate.objects.get(msgid=_batch(first, sim_team["guide"]).msgid),
        userid=sim_team["guide"].userid,
    )
    groupmsg.member_confirm(template=SimMsgTemplate.objects.get(msgid=second["msgid"]), userid=sim_team["guide"].userid)
    statuses = SimGroupMsgResult.objects.filter(external_userid="wma1").order_by("id").values_list("status", flat=True)
    assert list(statuses) == [1, 3]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"script": "{客户称呼}您好"}, "不能使用占位符"),
        ({"script": "送券 {券码}", "coupon_mode": Task.CouponMode.GENERATE}, "不能发券"),
        ({"script": ""}, "需要填写群发文字或选择附件"),
    ],
)
def test_group_send_validation(sim_team, make_groupsend, overrides, message):
    with pytest.raises(ValidationError) as exc:
        make_groupsend(**overrides)
    assert any(message in m for m in exc.value.messages)
