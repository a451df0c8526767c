"""Processing stored callbacks against the live WeCom simulator: each ChangeType, redelivery, failures."""

import datetime as dt

import pytest
from django.utils import timezone

from scrm.customers.models import (
    Customer,
    CustomerTag,
    Event,
    FollowRelation,
    Identity,
    IdentityKind,
    LifecycleStage,
    Tag,
    TagGroup,
)
from scrm.org.models import Staff
from scrm.wecom import dispatch, signals, tasks
from scrm.wecom.models import CallbackInbox
from scrm.wecom.simulator.callbacks import contact_event, tag_event
from scrm.wecom.simulator.models import SimFollowUser, SimTag
from tests.factories import CustomerFactory, IdentityFactory, StaffFactory


@pytest.fixture
def sim_pair(wecom_sim, guide):
    """The `guide` in WeCom with a new WeChat contact who has one corp tag and came from a QR 'state'."""
    wecom_sim.member_add(userid=guide.userid, name=guide.name)
    group = wecom_sim.tag_group_add(name="肤质", tags=["干皮", "油皮"])
    dry = group.tags.get(name="干皮")
    wecom_sim.contact_add(external_userid="wmNEW1", name="林小姐", gender=2, unionid="uLIN")
    wecom_sim.follow_add(
        userid=guide.userid,
        external_userid="wmNEW1",
        remark="林-干皮",
        tags=[dry.tag_id],
        state="store_qr_01",
        add_way=1,
        createtime=1_700_000_000,
    )
    return guide, "wmNEW1", dry


def _add_event(guide, ext, **extra):
    return contact_event(
        "add_external_contact",
        userid=guide.userid,
        external_userid=ext,
        State="store_qr_01",
        WelcomeCode="WC123",
        create_time=1_700_000_100,
        **extra,
    )


def test_add_external_contact_creates_customer_relation_tags_and_event(post_callback, sim_pair):
    guide, ext, dry = sim_pair

    assert post_callback(_add_event(guide, ext)).content == b"success"

    row = CallbackInbox.objects.get()
    assert row.status == CallbackInbox.Status.DONE, row.last_error
    customer = Customer.objects.get()
    assert (customer.name, customer.gender, customer.store) == ("林小姐", 2, guide.store)
    assert set(customer.identities.values_list("kind", "value")) == {
        (IdentityKind.WECOM, ext),
        (IdentityKind.UNIONID, "uLIN"),
    }
    relation = FollowRelation.objects.get()
    assert (relation.staff, relation.customer, relation.remark, relation.state, relation.add_way) == (
        guide,
        customer,
        "林-干皮",
        "store_qr_01",
        1,
    )
    assert relation.added_at == dt.datetime.fromtimestamp(1_700_000_000, tz=dt.UTC)
    tag = Tag.objects.get(wecom_tag_id=dry.tag_id)  # unknown tag → corp tags pulled
    assert tag.group.name == "肤质"
    assert list(CustomerTag.objects.filter(customer=customer).values_list("tag", flat=True)) == [tag.pk]
    event = Event.objects.get(customer=customer)
    assert event.kind == "friend_added"
    assert event.payload["state"] == "store_qr_01"
    assert event.payload["welcome_code"] == "WC123"


def test_an_app_that_knows_the_adds_state_names_its_source_on_the_timeline(post_callback, sim_pair):
    guide, ext, _ = sim_pair
    heard = []

    def source_of(*, state, relation, **_kwargs):
        heard.append((state, relation.external_userid))
        return signals.AddSource(label="门店海报 · 春季", payload={"poster": 7}) if state == "store_qr_01" else None

    signals.contact_added.connect(source_of, dispatch_uid="test-source")
    try:
        post_callback(_add_event(guide, ext))
    finally:
        signals.contact_added.disconnect(dispatch_uid="test-source")

    assert heard == [("store_qr_01", ext)]
    event = Event.objects.get(kind="friend_added")
    assert event.title == f"通过「门店海报 · 春季」添加导购 {guide.name} 为好友"
    assert event.payload["poster"] == 7


def test_redelivered_add_creates_nothing_twice(post_callback, sim_pair):
    guide, ext, _ = sim_pair
    event = _add_event(guide, ext)

    post_callback(event)
    post_callback(event)
    # Even processing the row again (a redelivered Celery task) is a no-op.
    dispatch.inbox_process(row_id=CallbackInbox.objects.get().pk)

    assert Customer.objects.count() == 1
    assert FollowRelation.objects.count() == 1
    assert Event.objects.count() == 1
    assert CustomerTag.objects.count() == 1


def test_add_for_a_customer_known_by_unionid_joins_that_customer(post_callback, sim_pair):
    guide, ext, _ = sim_pair
    mp_customer = CustomerFactory(name="小程序会员")
    IdentityFactory(customer=mp_customer, kind=IdentityKind.UNIONID, value="uLIN")

    post_callback(_add_event(guide, ext))

    assert Customer.objects.count() == 1
    assert FollowRelation.objects.get().customer == mp_customer
    assert Identity.objects.get(kind=IdentityKind.WECOM, value=ext).customer == mp_customer


def test_add_half_external_contact_is_an_add(post_callback, sim_pair):
    guide, ext, _ = sim_pair

    post_callback(contact_event("add_half_external_contact", userid=guide.userid, external_userid=ext))

    assert FollowRelation.objects.filter(ended_at__isnull=True).count() == 1
    assert Event.objects.get().payload["half"] is True


def test_unknown_member_is_fetched_from_wecom(post_callback, wecom_sim):
    wecom_sim.member_add(userid="newguide", name="新导购")
    wecom_sim.follow_add(userid="newguide", external_userid="wmX")

    post_callback(contact_event("add_external_contact", userid="newguide", external_userid="wmX"))

    staff = Staff.objects.get(userid="newguide")
    assert staff.name == "新导购"
    assert FollowRelation.objects.get().staff == staff


def test_member_unknown_to_wecom_too_fails_the_row_with_a_reason(post_callback, wecom_sim, db):
    wecom_sim.contact_add(external_userid="wmX")

    post_callback(contact_event("add_external_contact", userid="ghost", external_userid="wmX"))

    row = CallbackInbox.objects.get()
    assert row.status == CallbackInbox.Status.FAILED
    assert "userid" in row.last_error
    assert not Customer.objects.exists()
    assert not Staff.objects.filter(userid="ghost").exists()


def test_edit_refreshes_remark_and_tags(post_callback, wecom_sim, sim_pair):
    guide, ext, dry = sim_pair
    post_callback(_add_event(guide, ext))
    oily = SimTag.objects.get(name="油皮")
    SimFollowUser.objects.filter(contact__external_userid=ext).update(remark="林-油皮", tags=[oily.tag_id])

    post_callback(contact_event("edit_external_contact", userid=guide.userid, external_userid=ext))

    relation = FollowRelation.objects.get()
    assert relation.remark == "林-油皮"
    customer = relation.customer
    assert list(customer.customer_tags.values_list("tag__name", flat=True)) == ["油皮"]
    edited = Event.objects.get(kind="friend_edited")
    assert edited.payload["changes"] == {"remark": "林-油皮"}


def test_local_tag_waiting_for_push_survives_an_edit_callback(post_callback, wecom_sim, sim_pair):
    guide, ext, _ = sim_pair
    post_callback(_add_event(guide, ext))
    customer = Customer.objects.get()
    local = Tag.objects.create(group=TagGroup.objects.get(), name="本地标签")
    CustomerTag.objects.create(customer=customer, tag=local, added_by=guide, source="local")

    post_callback(contact_event("edit_external_contact", userid=guide.userid, external_userid=ext))

    assert customer.customer_tags.filter(tag=local).exists()


def test_del_external_contact_ends_the_relation_by_staff(post_callback, sim_pair):
    guide, ext, _ = sim_pair
    post_callback(_add_event(guide, ext))

    post_callback(contact_event("del_external_contact", userid=guide.userid, external_userid=ext))

    relation = FollowRelation.objects.get()
    assert relation.ended_by == FollowRelation.EndedBy.STAFF
    assert relation.ended_at is not None
    assert Event.objects.filter(kind="friend_deleted_by_staff").count() == 1


def test_del_follow_user_ends_by_customer_and_flags_churn(post_callback, sim_pair):
    guide, ext, _ = sim_pair
    post_callback(_add_event(guide, ext))

    post_callback(contact_event("del_follow_user", userid=guide.userid, external_userid=ext))

    relation = FollowRelation.objects.get()
    assert relation.ended_by == FollowRelation.EndedBy.CUSTOMER
    assert Event.objects.filter(kind="friend_deleted_by_customer").count() == 1
    customer = Customer.objects.get()
    assert customer.churn_risk is True
    assert customer.lifecycle_stage == LifecycleStage.LOST


def test_delete_of_an_unknown_customer_is_skipped_with_a_reason(post_callback, guide, wecom_sim):
    post_callback(contact_event("del_follow_user", userid=guide.userid, external_userid="wmNOBODY"))

    row = CallbackInbox.objects.get()
    assert row.status == CallbackInbox.Status.SKIPPED
    assert row.last_error
    assert not Customer.objects.exists()


@pytest.mark.parametrize(("reason", "text"), [("customer_refused", "客户拒绝"), ("customer_limit_exceed", "上限")])
def test_transfer_fail_records_the_reason(post_callback, followed_customer, guide, reason, text, wecom_sim):
    ext = FollowRelation.objects.get().external_userid

    post_callback(contact_event("transfer_fail", userid=guide.userid, external_userid=ext, FailReason=reason))

    event = Event.objects.get(kind="transfer_failed")
    assert event.customer == followed_customer
    assert event.payload["reason"] == reason
    assert text in event.title


def test_tag_events_pull_corp_tags_and_flag_deleted_ones(post_callback, wecom_sim, db):
    group = wecom_sim.tag_group_add(name="兴趣", tags=["口红", "香水"])
    post_callback(tag_event("create", tag_id=group.group_id, tag_type="tag_group"))
    assert set(Tag.objects.values_list("name", flat=True)) == {"口红", "香水"}
    lipstick = group.tags.get(name="口红")
    customer = CustomerFactory()
    CustomerTag.objects.create(customer=customer, tag=Tag.objects.get(wecom_tag_id=lipstick.tag_id))

    SimTag.objects.filter(pk=lipstick.pk).update(deleted=True)
    SimTag.objects.filter(name="香水").update(name="香氛")
    post_callback(tag_event("delete", tag_id=lipstick.tag_id))
    post_callback(tag_event("update", tag_id="whatever"))

    local = Tag.objects.get(wecom_tag_id=lipstick.tag_id)
    assert local.deleted is True
    assert customer.customer_tags.filter(tag=local).exists()  # flagged, not removed
    assert Tag.objects.filter(name="香氛", deleted=False).count() == 1
    assert TagGroup.objects.count() == 1


def test_retryable_wecom_error_keeps_the_row_pending_until_the_sweep_succeeds(post_callback, wecom_sim, sim_pair):
    guide, ext, _ = sim_pair
    wecom_sim.fault_inject(path="externalcontact/get", errcode=45009)

    assert post_callback(_add_event(guide, ext)).content == b"success"

    row = CallbackInbox.objects.get()
    assert (row.status, row.attempts) == (CallbackInbox.Status.PENDING, 1)
    assert "45009" in row.last_error
    assert not FollowRelation.objects.exists()

    CallbackInbox.objects.filter(pk=row.pk).update(received_at=timezone.now() - dt.timedelta(minutes=5))
    tasks.sweep_callback_inbox()

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (CallbackInbox.Status.DONE, 2, "")
    assert FollowRelation.objects.count() == 1


def test_permanent_wecom_error_fails_the_row_and_admin_can_retry(post_callback, wecom_sim, sim_pair, admin_client):
    guide, ext, _ = sim_pair
    wecom_sim.fault_inject(path="externalcontact/get", errcode=60011)

    post_callback(_add_event(guide, ext))

    row = CallbackInbox.objects.get()
    assert row.status == CallbackInbox.Status.FAILED
    assert "60011" in row.last_error

    response = admin_client.post(
        "/admin/wecom/callbackinbox/", {"action": "process_again", "_selected_action": [row.pk]}
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == CallbackInbox.Status.DONE
    assert FollowRelation.objects.count() == 1


def test_other_events_are_stored_and_skipped(post_callback, db, wecom_sim):
    post_callback({"ToUserName": "ww", "FromUserName": "sys", "CreateTime": 1, "MsgType": "event", "Event": "x"})

    assert CallbackInbox.objects.get().status == CallbackInbox.Status.SKIPPED


def test_inbox_admin_lists_failed_rows(admin_client, db):
    CallbackInbox.objects.create(key="k1", event="change_external_contact", status="failed", last_error="60011: 无权限")

    response = admin_client.get("/admin/wecom/callbackinbox/?status__exact=failed")

    assert response.status_code == 200
    assert "60011: 无权限" in response.content.decode()


def test_staff_for_unknown_member_on_delete_is_upserted_when_wecom_knows_them(post_callback, wecom_sim):
    wecom_sim.member_add(userid="g_late", name="晚到导购")
    customer = CustomerFactory()
    IdentityFactory(customer=customer, kind=IdentityKind.WECOM, value="wmK")
    StaffFactory(userid="other")

    post_callback(contact_event("del_external_contact", userid="g_late", external_userid="wmK"))

    assert Staff.objects.get(userid="g_late").name == "晚到导购"
    assert Event.objects.get(kind="friend_deleted_by_staff").customer == customer


def test_simulator_posts_a_real_callback_over_http(wecom_sim, sim_pair, live_server):
    from scrm.wecom.simulator.callbacks import callback_post

    guide, ext, _ = sim_pair

    response = callback_post(_add_event(guide, ext), url=f"{live_server.url}/wecom/callback/")

    assert (response.status_code, response.text) == (200, "success")
    assert CallbackInbox.objects.get().status == CallbackInbox.Status.DONE
    assert FollowRelation.objects.get().external_userid == ext


def test_remark_mobiles_are_stored_and_put_on_the_timeline_masked_only(post_callback, wecom_sim, sim_pair):
    guide, ext, dry = sim_pair
    SimFollowUser.objects.filter(contact__external_userid=ext).update(remark_mobiles=["13800138000"])
    post_callback(_add_event(guide, ext))
    SimFollowUser.objects.filter(contact__external_userid=ext).update(remark_mobiles=["+86 139-0013-9000"])

    post_callback(contact_event("edit_external_contact", userid=guide.userid, external_userid=ext))

    assert FollowRelation.objects.get().remark_mobiles == ["139****9000"]
    edited = Event.objects.get(kind="friend_edited")
    assert edited.payload["changes"] == {"remark_mobiles": ["139****9000"]}
    stored = str(list(FollowRelation.objects.values_list("remark_mobiles", flat=True))) + str(
        list(Event.objects.values_list("payload", flat=True))
    )
    assert "13800138000" not in stored and "13900139000" not in stored
    # Syncing the same numbers again changes nothing (the masked value is compared, not the clear one).
    post_callback(contact_event("edit_external_contact", userid=guide.userid, external_userid=ext, create_time=1))
    assert Event.objects.filter(kind="friend_edited").count() == 1
