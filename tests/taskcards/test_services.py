"""任务卡 writes: items per guide, validation, coupons given once, one-tap send completing an item once."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from scrm.customers.models import Event
from scrm.taskcards import coupons, sending
from scrm.taskcards.models import Coupon, Task, TaskItem, TaskNudge
from scrm.taskcards.reminders import tasks_remind_lagging
from scrm.taskcards.selectors import task_progress
from scrm.taskcards.services import TaskDraft, task_create
from tests.factories import FollowRelationFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _owners(task):
    return {(i.customer.name, i.staff.name) for i in task.items.select_related("customer", "staff")}


def test_each_guide_gets_their_own_customers_of_the_segment(team, make_task):
    task = make_task()
    g, o = team["guide"].name, team["other"].name
    assert _owners(task) == {("a0", o), ("a1", g), ("b0", o), ("b1", o)}
    assert task.coupons.count() == 4 and not task.coupons.filter(item__isnull=False).exists()


def test_targeting_one_guide_only_gives_them_items(team, make_task):
    task = make_task(stores=[], guides=[team["guide"]])
    assert _owners(task) == {("a0", team["guide"].name), ("a1", team["guide"].name)}


def test_a_manager_cannot_reach_another_stores_guides(team, make_task):
    other_store_guide = FollowRelationFactory().staff
    task = make_task(stores=[other_store_guide.store])
    assert task.items.count() == 0


def test_invalid_drafts_say_every_problem_in_chinese(team):
    now = timezone.now()
    draft = TaskDraft(name=" ", starts_at=now, deadline=now - dt.timedelta(hours=1), script="{生日}",
                      coupon_mode=Task.CouponMode.UPLOAD)  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        task_create(draft=draft, staff=team["manager"])
    text = " ".join(exc.value.messages)
    for fragment in ("任务名称", "{生日}", "{券码}", "请上传券码文件", "截止时间须晚于开始时间", "门店或导购"):
        assert fragment in text
    assert Task.objects.count() == 0


def test_uploaded_codes_parse_and_collide_with_nothing(team, make_task):
    codes = coupons.codes_parse("券码\r\nA100\r\nA101\r\nA100\r\n".encode("utf-8-sig"))
    assert codes == ["A100", "A101"]
    make_task(coupon_mode=Task.CouponMode.UPLOAD, coupon_codes=codes)
    with pytest.raises(ValidationError, match="A100"):
        make_task(name="again", coupon_mode=Task.CouponMode.UPLOAD, coupon_codes=["A100"])


def _send(item, staff, status="sent"):
    prepared = sending.task_send_prepare(item=item, staff=staff)
    outcome = sending.task_send_record(item=item, staff=staff, request_id=prepared.request_id, status=status)
    return prepared, outcome


def test_send_fills_the_code_and_completes_once_with_timeline_events(team, make_task):
    task = make_task()
    item = task.items.get(customer=team["c"]["a1"])
    first = sending.task_send_prepare(item=item, staff=team["guide"])
    second = sending.task_send_prepare(item=item, staff=team["guide"])  # a double tap
    code = Coupon.objects.get(item=item).code
    assert code in first.msg["text"]["content"] and first.msg["text"]["content"] == second.msg["text"]["content"]
    done = [
        sending.task_send_record(item=item, staff=team["guide"], request_id=p.request_id, status="sent").completed
        for p in (first, second)
    ]
    assert done == [True, False]
    item.refresh_from_db()
    assert item.state == TaskItem.State.SENT
    kinds = list(Event.objects.filter(customer=item.customer).values_list("kind", flat=True))
    assert sorted(kinds) == ["coupon_sent", "task_done"]
    with pytest.raises(sending.TaskSendError, match="已经完成"):
        sending.task_send_prepare(item=item, staff=team["guide"])


def test_a_cancelled_send_leaves_the_item_open_and_keeps_its_code(team, make_task):
    task = make_task()
    item = task.items.get(customer=team["c"]["a1"])
    prepared, outcome = _send(item, team["guide"], status="cancelled")
    assert not outcome.completed and TaskItem.objects.get(pk=item.pk).state == TaskItem.State.OPEN
    again = sending.task_send_prepare(item=item, staff=team["guide"])
    assert again.msg == prepared.msg and Coupon.objects.filter(item__isnull=False).count() == 1


def test_another_guides_item_or_a_forged_request_is_refused(team, make_task):
    task = make_task()
    item = task.items.get(customer=team["c"]["b0"])
    with pytest.raises(sending.TaskSendError):
        sending.task_send_prepare(item=item, staff=team["guide"])
    with pytest.raises(sending.TaskSendError, match="无效"):
        sending.task_send_record(
            item=item, staff=team["other"], request_id=f"{item.pk}-{'0' * 16}-{'0' * 20}", status="sent"
        )


def test_an_empty_pool_says_so(team, make_task):
    task = make_task()
    Coupon.objects.filter(task=task).delete()
    with pytest.raises(sending.TaskSendError, match="券码已经发完"):
        sending.task_send_prepare(item=task.items.first(), staff=task.items.first().staff)


def test_progress_counts_sent_ordered_within_window_and_redeemed(team, make_task):
    task = make_task(order_window_days=7)
    guide, other = team["guide"], team["other"]
    for name, staff in (("a1", guide), ("b0", other), ("b1", other)):
        _send(task.items.get(customer=team["c"][name]), staff)
    OrderFactory(customer=team["c"]["a1"], paid_at=timezone.now() + dt.timedelta(days=2))
    OrderFactory(customer=team["c"]["b0"], paid_at=timezone.now() + dt.timedelta(days=8))  # outside the window
    OrderFactory(customer=team["c"]["a0"], paid_at=timezone.now())  # never sent to
    coupons.coupon_redeem(code=Coupon.objects.get(item__customer=team["c"]["a1"]).code, order_no="P1")
    progress = task_progress(task=task)
    t = progress.total
    assert (t.assigned, t.sent, t.open, t.ordered, t.redeemed) == (4, 3, 1, 1, 1)
    by_guide = {p.label: (p.assigned, p.sent, p.ordered) for p in progress.guides}
    assert by_guide == {guide.name: (1, 1, 1), other.name: (3, 2, 0)}
    assert [(s.label, s.assigned) for s in progress.stores] == [(team["store"].name, 4)]


def test_redeeming_twice_or_an_unsent_code(team, make_task):
    task = make_task()
    item = task.items.get(customer=team["c"]["a1"])
    _send(item, team["guide"])
    code = Coupon.objects.get(item=item).code
    assert coupons.coupon_redeem(code=code).already is False
    assert coupons.coupon_redeem(code=code).already is True
    free = Coupon.objects.filter(task=task, item__isnull=True).first().code
    with pytest.raises(coupons.CouponError, match="还没有发给客户"):
        coupons.coupon_redeem(code=free)


def test_lagging_guides_get_one_reminder_before_the_deadline(team, make_task, monkeypatch):
    sent = []
    monkeypatch.setattr("scrm.wecom.api.message_send", lambda **kw: sent.append(kw) or {"msgid": "m"})
    far = make_task(name="far", deadline=timezone.now() + dt.timedelta(days=3))
    soon = make_task(name="soon", coupon_mode=Task.CouponMode.NONE, deadline=timezone.now() + dt.timedelta(hours=5))
    for item in soon.items.filter(staff=team["guide"]):
        _send(item, team["guide"])
    assert tasks_remind_lagging() == 1
    assert sent[0]["userids"] == [team["other"].userid] and "soon" in sent[0]["msg"]["textcard"]["title"]
    assert tasks_remind_lagging() == 0
    assert not TaskNudge.objects.filter(task=far).exists()


# --- concurrency (PostgreSQL) -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_never_give_a_code_twice(team, make_task):
    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency need PostgreSQL")
    customers = [FollowRelationFactory(staff=team["guide"]).customer for _ in range(30)]
    for c in customers:
        c.lifecycle_stage = "repeat"
        c.save(update_fields=["lifecycle_stage"])
    task = make_task(stores=[], guides=[team["guide"]])
    items = list(task.items.select_related("task", "customer"))
    assert len(items) == 32  # a0 and a1 of the team too
    workers = 12
    barrier, errors = threading.Barrier(workers), []

    def run(item):
        try:
            sending.task_send_prepare(item=item, staff=team["guide"])
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    def warm(_):
        try:
            barrier.wait(timeout=30)
        finally:
            connection.close()

    jobs = items + items[:10]  # every item, ten of them tapped twice at once
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(warm, range(workers)))
        list(pool.map(run, jobs))
    assert errors == []
    bound = list(Coupon.objects.filter(task=task, item__isnull=False).values_list("item_id", "code"))
    assert len(bound) == 32
    assert len({item for item, _ in bound}) == 32 and len({code for _, code in bound}) == 32


def test_a_code_given_to_a_customer_whose_data_is_erased_is_never_given_again(team, make_task):
    from scrm.privacy.services import customer_erase

    task = make_task()
    Coupon.objects.filter(task=task).exclude(pk=Coupon.objects.filter(task=task).first().pk).delete()  # a pool of one
    item = task.items.get(customer=team["c"]["a1"])
    _send(item, team["guide"])
    code = Coupon.objects.get(item=item).code
    customer_erase(customer=item.customer, staff=team["manager"])
    coupon = Coupon.objects.get(code=code)
    assert coupon.item is None and coupon.assigned_at is not None
    with pytest.raises(sending.TaskSendError, match="券码已经发完"):
        sending.task_send_prepare(item=task.items.get(customer=team["c"]["b0"]), staff=team["other"])


def test_a_material_task_sends_the_material_filled_for_the_customer(team, make_task):
    from tests.factories import MaterialFactory

    material = MaterialFactory(title="新品话术", content="{客户称呼}您好，{门店}新品到店")
    task = make_task(script="", material=material, coupon_mode=Task.CouponMode.NONE)
    item = task.items.get(customer=team["c"]["a1"])
    prepared, outcome = _send(item, team["guide"])
    assert prepared.msg["msgtype"] == "text" and prepared.msg["text"]["content"].endswith(
        f"{team['store'].name}新品到店"
    )
    assert outcome.completed and not Coupon.objects.exists()
    assert list(Event.objects.filter(customer=item.customer).values_list("kind", flat=True)) == ["task_done"]


def test_sends_only_between_start_and_deadline(team, make_task):
    now = timezone.now()
    later = make_task(name="later", starts_at=now + dt.timedelta(hours=2))
    with pytest.raises(sending.TaskSendError, match="还没开始"):
        sending.task_send_prepare(item=later.items.get(customer=team["c"]["a1"]), staff=team["guide"])
    over = make_task(name="over")
    Task.objects.filter(pk=over.pk).update(deadline=now - dt.timedelta(minutes=1))
    item = TaskItem.objects.select_related("task", "customer").get(task=over, customer=team["c"]["a1"])
    with pytest.raises(sending.TaskSendError, match="已截止"):
        sending.task_send_prepare(item=item, staff=team["guide"])


def test_a_task_send_pulled_from_the_chat_archive_before_its_report_still_shows_once(team, make_task):
    """WeCom may archive the card's message (and we pull it) before the sidebar reports the send."""
    from scrm.customers.events import EventKind, chat_message_record

    task = make_task()
    item = task.items.get(customer=team["c"]["a1"])
    relation = item.customer.follow_relations.get(staff=team["guide"])
    prepared = sending.task_send_prepare(item=item, staff=team["guide"])
    chat_message_record(
        relation=relation, incoming=False, msgid="m1", msgtype="text",
        text=prepared.msg["text"]["content"], occurred_at=timezone.now(),
    )  # fmt: skip

    sending.task_send_record(item=item, staff=team["guide"], request_id=prepared.request_id, status="sent")

    kinds = Event.objects.filter(customer=item.customer).values_list("kind", flat=True)
    assert sorted(kinds) == [EventKind.COUPON_SENT, EventKind.TASK_DONE]
