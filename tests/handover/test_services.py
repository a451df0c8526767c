"""Hand-over end to end against the live WeCom simulator: send, follow up, callbacks, retry, idempotency."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from scrm.customers.models import Event, FollowRelation, Order
from scrm.customers.services import note_create
from scrm.handover import results, services, tasks
from scrm.handover.models import HandoverBatch, HandoverItem
from scrm.wecom import api
from scrm.wecom.simulator.callbacks import contact_event
from scrm.wecom.simulator.models import SimFollowUser, SimTransfer
from tests.factories import CustomerTagFactory, FollowRelationFactory, OrderFactory, TagFactory

State = HandoverItem.State


def create(shop, relations, takeovers, **kwargs):
    return services.handover_batch_create(
        handover=shop.old,
        takeovers=takeovers,
        relations=relations,
        created_by=shop.manager,
        request_key=uuid.uuid4().hex,
        **kwargs,
    )


def states(batch) -> dict[str, int]:
    result: dict[str, int] = {}
    for state in batch.items.values_list("state", flat=True):
        result[state] = result.get(state, 0) + 1
    return result


def settle_in_wecom(shop, relations, *, accepted=True):
    for relation in relations:
        shop.sim.transfer_settle(external_userid=relation.external_userid, accepted=accepted)


def test_departed_guide_with_150_customers_goes_in_two_chunks_and_is_taken_over(shop, transfer_calls):
    relations = shop.customers(150)
    shop.depart()

    batch = create(shop, relations, [shop.bob])

    assert batch.kind == HandoverBatch.Kind.RESIGNED
    assert [(c["api"], len(c["external_userids"])) for c in transfer_calls] == [
        ("resigned_transfer_customer", 100),
        ("resigned_transfer_customer", 50),
    ]
    assert states(batch) == {State.WAITING: 150}
    assert SimTransfer.objects.filter(resigned=True, takeover_userid="bob").count() == 150

    settle_in_wecom(shop, relations)
    counts = tasks.poll_results.delay().get()

    assert counts == {State.ACCEPTED: 150}
    assert states(batch) == {State.ACCEPTED: 150}
    assert not FollowRelation.objects.filter(staff=shop.old, ended_at__isnull=True).exists()
    assert set(FollowRelation.objects.filter(staff=shop.old).values_list("ended_by", flat=True)) == {"transfer"}
    assert FollowRelation.objects.filter(staff=shop.bob, ended_at__isnull=True).count() == 150
    assert Event.objects.filter(kind="transfer", title="从 王离开 转接给 李接替").count() == 150
    # WeCom now has every customer with the new guide.
    assert SimFollowUser.objects.filter(member__userid="bob").count() == 150


def test_in_service_transfer_spreads_customers_and_carries_the_message(shop, transfer_calls):
    relations = shop.customers(5)

    batch = create(shop, relations, [shop.bob, shop.cat], transfer_success_msg="您好，之后由我为您服务～")

    assert batch.kind == HandoverBatch.Kind.IN_SERVICE
    by_takeover = {c["takeover_userid"]: c for c in transfer_calls}
    assert {c["api"] for c in transfer_calls} == {"transfer_customer"}
    assert len(by_takeover["bob"]["external_userids"]) == 3
    assert len(by_takeover["cat"]["external_userids"]) == 2
    assert {c["transfer_success_msg"] for c in transfer_calls} == {"您好，之后由我为您服务～"}
    assert states(batch) == {State.WAITING: 5}
    # Round robin in relation order: 1st, 3rd, 5th to bob.
    assert list(batch.items.order_by("relation_id").values_list("takeover__userid", flat=True)) == [
        "bob",
        "cat",
        "bob",
        "cat",
        "bob",
    ]


def test_partial_failure_records_each_customers_reason(shop):
    ok, stranger, busy = shop.customers(3)
    SimFollowUser.objects.filter(contact__external_userid=stranger.external_userid).delete()
    # Someone already started moving this customer in WeCom.
    api.transfer_customer(handover_userid="alice", takeover_userid="cat", external_userids=[busy.external_userid])

    batch = create(shop, [ok, stranger, busy], [shop.bob])

    items = {i.relation_id: i for i in batch.items.all()}
    assert items[ok.pk].state == State.WAITING
    assert (items[stranger.pk].state, items[stranger.pk].errcode) == (State.FAILED, 84061)
    assert items[stranger.pk].reason == "不是原导购的客户"
    assert (items[busy.pk].state, items[busy.pk].errcode) == (State.FAILED, 40129)
    assert items[busy.pk].reason == "客户正在转接中"
    failed = Event.objects.filter(kind="transfer_failed").order_by("customer_id")
    assert [e.customer_id for e in failed] == sorted([stranger.customer_id, busy.customer_id])
    assert "客户正在转接中" in Event.objects.get(kind="transfer_failed", customer=busy.customer).title
    # Failures keep the old guide's relation.
    assert FollowRelation.objects.filter(pk__in=[stranger.pk, busy.pk], ended_at__isnull=True).count() == 2


def test_permanent_error_of_a_whole_call_fails_its_items(shop):
    relations = shop.customers(2)
    shop.sim.member_depart(userid="alice")  # left in WeCom, still active here: in-service call is refused

    batch = create(shop, relations, [shop.bob])

    assert states(batch) == {State.FAILED: 2}
    assert set(batch.items.values_list("errcode", flat=True)) == {40099}
    # The manager learns what to do: mark the guide departed, then retry (through the resigned API).
    assert {r[:12] for r in batch.items.values_list("reason", flat=True)} == {"原导购已在企业微信中离职"}


def test_guide_departed_here_but_not_in_wecom_fails_with_what_to_do(shop):
    relations = shop.customers(2)
    # 标记离职 in the console only; the member is still employed in WeCom.
    shop.old = services.staff_mark_departed(staff=shop.old, by=shop.manager)

    batch = create(shop, relations, [shop.bob])

    assert batch.kind == HandoverBatch.Kind.RESIGNED
    assert set(batch.items.values_list("errcode", flat=True)) == {40099}
    # The reason tells the manager what to do about it, not just what went wrong.
    assert set(batch.items.values_list("reason", flat=True)) == {
        "原导购在企业微信中仍在职：请先在企业微信管理后台办理离职，再点“重试失败项”"
    }


def test_refusal_seen_by_polling_then_the_callback_adds_no_second_event(shop, post_callback):
    (relation,) = shop.customers(1)
    batch = create(shop, [relation], [shop.bob])

    settle_in_wecom(shop, [relation], accepted=False)
    assert results.handover_results_poll() == {State.REFUSED: 1}
    item = batch.items.get()
    assert (item.state, item.reason) == (State.REFUSED, "客户拒绝转接")

    post_callback(
        contact_event(
            "transfer_fail", userid="bob", external_userid=relation.external_userid, FailReason="customer_refused"
        )
    )

    assert Event.objects.filter(kind="transfer_failed", customer=relation.customer).count() == 1
    assert FollowRelation.objects.get(pk=relation.pk).ended_at is None


def test_takeover_at_limit_seen_by_polling_fails_the_item_with_its_reason(shop):
    (relation,) = shop.customers(1)
    batch = create(shop, [relation], [shop.bob])
    SimTransfer.objects.filter(external_userid=relation.external_userid).update(status=SimTransfer.Status.LIMIT)

    assert results.handover_results_poll() == {State.FAILED: 1}
    item = batch.items.get()
    assert (item.state, item.reason) == (State.FAILED, "接替导购的客户数已达上限")
    assert "接替导购的客户数已达上限" in Event.objects.get(kind="transfer_failed", customer=relation.customer).title
    assert FollowRelation.objects.get(pk=relation.pk).ended_at is None


@pytest.mark.parametrize(
    ("reason", "state", "text"),
    [("customer_refused", State.REFUSED, "客户拒绝转接"), ("customer_limit_exceed", State.FAILED, "上限")],
)
def test_transfer_fail_callback_settles_the_item_at_once(shop, post_callback, reason, state, text):
    (relation,) = shop.customers(1)
    batch = create(shop, [relation], [shop.bob])
    settle_in_wecom(shop, [relation], accepted=False)

    post_callback(
        contact_event("transfer_fail", userid="bob", external_userid=relation.external_userid, FailReason=reason)
    )

    item = batch.items.get()
    assert item.state == state and text in item.reason
    (event,) = Event.objects.filter(kind="transfer_failed", customer=relation.customer)
    assert event.dedupe_key == item.failed_event_key
    # Polling later finds nothing left to do and records nothing more.
    assert results.handover_results_poll() == {}
    assert Event.objects.filter(kind="transfer_failed").count() == 1


def test_retry_sends_only_failed_and_refused_items_again(shop, transfer_calls):
    waiting, refused, stranger = shop.customers(3)
    SimFollowUser.objects.filter(contact__external_userid=stranger.external_userid).delete()
    batch = create(shop, [waiting, refused, stranger], [shop.bob])
    settle_in_wecom(shop, [refused], accepted=False)
    results.handover_results_poll()
    assert states(batch) == {State.WAITING: 1, State.REFUSED: 1, State.FAILED: 1}
    transfer_calls.clear()

    assert services.handover_batch_retry(batch=batch) == 2

    (call,) = transfer_calls
    assert sorted(call["external_userids"]) == sorted([refused.external_userid, stranger.external_userid])
    items = {i.relation_id: i for i in batch.items.all()}
    assert (items[refused.pk].state, items[refused.pk].attempt) == (State.WAITING, 2)
    assert items[stranger.pk].state == State.FAILED  # still not a contact
    assert items[waiting.pk].attempt == 1
    # Each attempt of the stranger has its own timeline entry.
    assert Event.objects.filter(kind="transfer_failed", customer=stranger.customer).count() == 2

    settle_in_wecom(shop, [refused])
    results.handover_results_poll()
    assert batch.items.get(relation=refused).state == State.ACCEPTED


def test_retry_after_the_guide_left_goes_through_the_resigned_api(shop, transfer_calls):
    """An in-service batch whose refused customers are retried once the old guide has left."""
    kept, refused = shop.customers(2)
    batch = create(shop, [kept, refused], [shop.bob], transfer_success_msg="您好")
    settle_in_wecom(shop, [kept])
    settle_in_wecom(shop, [refused], accepted=False)
    results.handover_results_poll()
    assert states(batch) == {State.ACCEPTED: 1, State.REFUSED: 1}
    shop.depart()
    transfer_calls.clear()

    assert services.handover_batch_retry(batch=batch) == 1

    (call,) = transfer_calls
    assert (call["api"], call["external_userids"]) == ("resigned_transfer_customer", [refused.external_userid])
    assert batch.items.get(relation=refused).state == State.WAITING
    # Its result is asked of the resigned API too, and the customer moves to the new guide.
    settle_in_wecom(shop, [refused])
    assert results.handover_results_poll() == {State.ACCEPTED: 1}
    assert states(batch) == {State.ACCEPTED: 2}
    assert FollowRelation.objects.filter(staff=shop.bob, ended_at__isnull=True).count() == 2


def test_items_sent_before_the_resigned_flag_existed_are_followed_up_through_the_resigned_api(shop):
    relations = shop.customers(2)
    shop.depart()
    batch = create(shop, relations, [shop.bob])
    batch.items.update(resigned=False)  # as sent by the code before migration 0002
    settle_in_wecom(shop, relations)

    assert results.handover_results_poll() == {State.ACCEPTED: 2}
    event = Event.objects.filter(kind="transfer").first()
    assert event.payload["kind"] == HandoverBatch.Kind.RESIGNED


def test_rerunning_the_send_task_never_sends_an_item_twice(shop, transfer_calls):
    relations = shop.customers(3)
    batch = create(shop, relations, [shop.bob])

    assert tasks.send_batch.delay(batch.pk).get() == 0
    assert services.handover_batch_send(batch_id=batch.pk) == 0

    assert len(transfer_calls) == 1
    assert states(batch) == {State.WAITING: 3}
    assert SimTransfer.objects.count() == 3


def test_a_retryable_error_resends_only_the_unsent_chunk(shop, transfer_calls, monkeypatch):
    relations = shop.customers(130)
    shop.depart()
    real = api.resigned_transfer_customer

    def busy_after_first_chunk(**kwargs):
        answer = real(**kwargs)
        if len(transfer_calls) == 1:
            shop.sim.fault_inject(path="externalcontact/resigned/transfer_customer", errcode=45009)
        return answer

    monkeypatch.setattr(api, "resigned_transfer_customer", busy_after_first_chunk)

    batch = create(shop, relations, [shop.bob])

    assert [len(c["external_userids"]) for c in transfer_calls] == [100, 30, 30]
    assert set(transfer_calls[1]["external_userids"]) == set(transfer_calls[2]["external_userids"])
    assert states(batch) == {State.WAITING: 130}
    assert SimTransfer.objects.count() == 130
    assert set(batch.items.values_list("attempt", flat=True)) == {1}


def test_a_worker_lost_mid_call_is_reconciled_without_sending_twice(shop, transfer_calls):
    sent, unsent = shop.customers(2)
    batch = create(shop, [sent, unsent], [shop.bob])
    # Pretend a worker claimed both, WeCom got only the first, and the worker died.
    SimTransfer.objects.filter(external_userid=unsent.external_userid).delete()
    long_ago = timezone.now() - dt.timedelta(hours=1)
    batch.items.update(state=State.SENDING, claimed_at=long_ago)
    transfer_calls.clear()

    results.handover_results_poll()

    (call,) = transfer_calls  # only the customer WeCom had never heard of
    assert call["external_userids"] == [unsent.external_userid]
    assert states(batch) == {State.WAITING: 2}
    assert SimTransfer.objects.filter(external_userid=sent.external_userid).count() == 1


def test_double_submit_makes_one_batch(shop):
    relations = shop.customers(2)
    key = uuid.uuid4().hex
    kwargs = dict(handover=shop.old, takeovers=[shop.bob], created_by=shop.manager, request_key=key)

    first = services.handover_batch_create(relations=relations, **kwargs)
    second = services.handover_batch_create(relations=relations, **kwargs)

    assert first.pk == second.pk
    assert HandoverItem.objects.count() == 2


def test_accepted_transfer_keeps_history_and_order_attribution(shop, client):
    (relation,) = shop.customers(1)
    customer = relation.customer
    order = OrderFactory(customer=customer, staff=shop.old, store=shop.store, amount="520.00")
    note_create(customer=customer, staff=shop.old, body="喜欢玫瑰香")
    CustomerTagFactory(customer=customer, tag=TagFactory(name="香氛控"))
    shop.depart()
    create(shop, [relation], [shop.bob])
    settle_in_wecom(shop, [relation])
    results.handover_results_poll()

    assert Order.objects.get(pk=order.pk).staff == shop.old
    new = FollowRelation.objects.get(staff=shop.bob, ended_at__isnull=True)
    assert (new.customer, new.external_userid) == (customer, relation.external_userid)
    event = Event.objects.get(kind="transfer")
    assert event.title == "从 王离开 转接给 李接替" and event.customer == customer

    client.force_login(shop.bob.user)
    portrait = client.get(reverse("sidebar:portrait", args=[relation.external_userid]))
    assert portrait.status_code == 200
    assert "520" in portrait.content.decode() and "香氛控" in portrait.content.decode()
    timeline = client.get(reverse("sidebar:timeline", args=[relation.external_userid]))
    body = timeline.content.decode()
    assert "喜欢玫瑰香" in body and "从 王离开 转接给 李接替" in body


def test_create_refuses_bad_input(shop):
    relations = shop.customers(1)
    other_guides = shop.customers(1, staff=shop.bob)
    with pytest.raises(Exception, match="原导购"):
        create(shop, relations, [shop.old])
    shop.cat.is_active = False
    shop.cat.save()
    with pytest.raises(Exception, match="在职"):
        create(shop, relations, [shop.cat])
    with pytest.raises(Exception, match="至少"):
        create(shop, [], [shop.bob])
    with pytest.raises(Exception, match="服务中"):
        create(shop, other_guides, [shop.bob])
    assert not HandoverBatch.objects.exists()


def test_beat_polls_transfer_results(settings):
    from scrm.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["handover-poll-results"]
    assert entry["task"] in app.tasks
    assert app.tasks[entry["task"]].name == tasks.poll_results.name


def test_reinstate_undoes_a_departure_once_no_hand_over_is_in_flight(shop):
    relations = shop.customers(2)
    shop.depart()
    batch = create(shop, relations, [shop.bob])
    assert states(batch) == {State.WAITING: 2}
    with pytest.raises(ValidationError):
        services.staff_reinstate(staff=shop.old, by=shop.manager)

    settle_in_wecom(shop, relations[:1])
    settle_in_wecom(shop, relations[1:], accepted=False)
    results.handover_results_poll()
    assert not batch.items.filter(state__in=HandoverItem.OPEN_STATES).exists()

    guide = services.staff_reinstate(staff=shop.old, by=shop.manager)
    guide.refresh_from_db()
    assert guide.is_active and guide.departed_at is None


def test_wecom_completes_a_transfer_nobody_refused_once_its_window_passes(shop, settings):
    settings.WECOM_SIM_TRANSFER_SECONDS = 60
    relations = shop.customers(2)
    batch = create(shop, relations, [shop.bob])
    assert results.handover_results_poll() == {}  # still inside the customer's window
    assert states(batch) == {State.WAITING: 2}

    SimTransfer.objects.update(created_at=timezone.now() - dt.timedelta(seconds=61))
    assert results.handover_results_poll() == {State.ACCEPTED: 2}
    assert SimFollowUser.objects.filter(member__userid="bob").count() == 2


def test_a_customer_refusing_in_the_chat_window_fails_the_item_through_the_callback(
    shop, client, monkeypatch, post_callback
):
    from scrm.wecom.simulator import services as sim_services

    # The simulator posts its transfer_fail callback over HTTP; here it goes through the test client.
    monkeypatch.setattr(sim_services, "callback_post", lambda event: post_callback(event))
    (relation,) = shop.customers(1)
    batch = create(shop, [relation], [shop.bob])
    chat = reverse("sim_chat")
    page = client.get(chat, {"userid": shop.old.userid, "ext": relation.external_userid}).content.decode()
    assert "模拟：客户拒绝转接" in page

    with_commit = client.post(
        reverse("sim_transfer_refuse"), {"userid": shop.old.userid, "ext": relation.external_userid}
    )
    assert with_commit.status_code == 302
    item = batch.items.get()
    assert (item.state, item.reason) == (State.REFUSED, "客户拒绝转接")
    assert FollowRelation.objects.get(pk=relation.pk).ended_at is None


def test_marking_a_member_departed_in_the_chat_window_departs_them_in_wecom(shop, client):
    from scrm.wecom.simulator.models import SimMember

    response = client.post(reverse("sim_member_depart"), {"userid": shop.old.userid})
    assert response.status_code == 302
    assert SimMember.objects.get(userid=shop.old.userid).status == SimMember.Status.DEPARTED


def test_a_customer_a_takeover_already_serves_goes_to_the_other_takeover(shop, transfer_calls):
    relations = shop.customers(3)
    # bob already has the first customer among his own friends (a family member added both guides).
    FollowRelationFactory(staff=shop.bob, customer=relations[0].customer)

    batch = create(shop, relations, [shop.bob, shop.cat])

    takeovers = list(batch.items.order_by("relation_id").values_list("takeover__userid", flat=True))
    assert takeovers == ["cat", "bob", "cat"]


def test_a_customer_every_takeover_already_serves_is_refused_by_name(shop):
    relations = shop.customers(2)
    relations[1].customer.name = "陈已服务"
    relations[1].customer.save()
    FollowRelationFactory(staff=shop.bob, customer=relations[1].customer)

    with pytest.raises(ValidationError, match="陈已服务 已由所选接替导购服务"):
        create(shop, relations, [shop.bob])
    assert not HandoverBatch.objects.exists()
