"""The add path against the simulator: scan → signed callback → welcome within 20 s → tags → source."""

import datetime as dt

import pytest
from django.utils import timezone

from scrm.customers.events import EventKind
from scrm.customers.models import CustomerTag, Event, FollowRelation
from scrm.livecodes import services
from scrm.livecodes.models import LiveCode, LiveCodeAdd, LiveCodeDayCount, StoreWelcome, WelcomeSend
from scrm.observe.metrics import WELCOME_LATE
from scrm.wecom.models import TagOutbox
from scrm.wecom.simulator.models import SimChatMessage, SimContactWay, SimFollowUser, SimWelcomeCode

pytestmark = pytest.mark.django_db(transaction=True)


def _welcomes(userid, ext):
    return list(SimChatMessage.objects.filter(userid=userid, external_userid=ext, msgtype="welcome"))


def test_creating_a_code_makes_a_contact_way_in_wecom(sim_scene, make_code):
    guides = sim_scene["guides"]
    code = make_code(guides=guides, skip_verify=False)
    code.refresh_from_db()

    way = SimContactWay.objects.get(config_id=code.config_id)
    assert (way.type, way.scene, way.state, way.user, way.skip_verify) == (
        2,
        2,
        code.state,
        [g.userid for g in guides],
        False,
    )
    assert code.qr_code.endswith(f"/_wecom/qr/{code.config_id}.png")
    assert code.sync_status == LiveCode.SyncStatus.OK
    assert code.decisions.get().reason == "created"


def test_scan_adds_the_friend_sends_the_welcome_once_and_tags_the_customer(sim_scene, make_code):
    guide = sim_scene["guides"][0]
    tag = sim_scene["tags"]["门店扫码"]
    code = make_code(
        guides=[guide], spread_mode="single", tags=[tag], welcome_text="{客户称呼}您好，我是{导购姓名}，欢迎光临～"
    )
    code.refresh_from_db()

    scan = sim_scene["sim"].contact_way_scan(config_id=code.config_id, name="王小姐")

    # The welcome reached the chat, filled in for this customer and guide.
    [welcome] = _welcomes(guide.userid, scan.external_userid)
    assert welcome.payload["text"]["content"] == "王小姐您好，我是张导购，欢迎光临～"
    row = WelcomeSend.objects.get(welcome_code=scan.welcome_code)
    assert row.status == WelcomeSend.Status.SENT and row.code == code
    # The product's relation records its source; the tag is applied here and pushed to WeCom.
    relation = FollowRelation.objects.get(staff=guide, external_userid=scan.external_userid)
    assert relation.state == code.state
    assert LiveCodeAdd.objects.get(relation=relation).code == code
    assert CustomerTag.objects.filter(customer=relation.customer, tag=tag).exists()
    assert TagOutbox.objects.get().status == TagOutbox.Status.DONE
    assert SimFollowUser.objects.get(contact__external_userid=scan.external_userid).tags == [tag.wecom_tag_id]
    added = Event.objects.get(customer=relation.customer, kind=EventKind.FRIEND_ADDED)
    assert "门店柜台 · 门店柜台码" in added.title and added.payload["live_code_id"] == code.pk
    assert LiveCodeDayCount.objects.get(code=code, staff=guide).count == 1

    # A redelivered callback sends nothing again and counts nothing again.
    services.welcome_send(
        welcome_code=scan.welcome_code,
        userid=guide.userid,
        external_userid=scan.external_userid,
        state=code.state,
        received_at=timezone.now(),
    )
    from scrm.wecom.simulator.callbacks import callback_post

    callback_post(scan.event)
    assert len(_welcomes(guide.userid, scan.external_userid)) == 1
    assert LiveCodeDayCount.objects.get(code=code, staff=guide).count == 1


def test_a_late_welcome_is_refused_by_wecom_and_recorded_as_expired(sim_scene, make_code):
    guide = sim_scene["guides"][0]
    code = make_code(guides=[guide], spread_mode="single", welcome_text="欢迎～")
    code.refresh_from_db()
    scan = sim_scene["sim"].contact_way_scan(config_id=code.config_id, name="晚到", send=False)
    SimWelcomeCode.objects.filter(code=scan.welcome_code).update(created_at=timezone.now() - dt.timedelta(seconds=21))
    late_before = WELCOME_LATE._value.get()

    row = services.welcome_send(
        welcome_code=scan.welcome_code,
        userid=guide.userid,
        external_userid=scan.external_userid,
        state=code.state,
        received_at=timezone.now(),
    )

    assert row.status == WelcomeSend.Status.EXPIRED and row.error.startswith("41051")
    assert _welcomes(guide.userid, scan.external_userid) == []
    assert WELCOME_LATE._value.get() == late_before + 1  # ops see it on /metrics


def test_a_welcome_queued_past_the_window_is_recorded_expired_without_calling_wecom(sim_scene, make_code):
    guide = sim_scene["guides"][0]
    code = make_code(guides=[guide], spread_mode="single", welcome_text="{客户称呼}您好～")
    code.refresh_from_db()
    scan = sim_scene["sim"].contact_way_scan(config_id=code.config_id, name="排队", send=False)
    late_before = WELCOME_LATE._value.get()

    row = services.welcome_send(
        welcome_code=scan.welcome_code,
        userid=guide.userid,
        external_userid=scan.external_userid,
        state=code.state,
        received_at=timezone.now() - dt.timedelta(seconds=21),  # a swamped or restarted worker
    )

    assert row.status == WelcomeSend.Status.EXPIRED and row.sent_at is None
    assert WELCOME_LATE._value.get() == late_before + 1
    # WeCom was not asked: the code is still unused there (the simulator's clock is not the queue's).
    assert SimWelcomeCode.objects.get(code=scan.welcome_code).used_at is None
    assert _welcomes(guide.userid, scan.external_userid) == []


def test_without_a_welcome_code_no_welcome_is_attempted(sim_scene, make_code):
    guide = sim_scene["guides"][0]
    code = make_code(guides=[guide], spread_mode="single", welcome_text="欢迎～")
    code.refresh_from_db()

    scan = sim_scene["sim"].contact_way_scan(config_id=code.config_id, name="有企业微信欢迎语", welcome=False)

    assert FollowRelation.objects.filter(external_userid=scan.external_userid).exists()
    assert WelcomeSend.objects.count() == 0
    assert _welcomes(guide.userid, scan.external_userid) == []


def test_a_code_without_its_own_welcome_uses_the_store_default(sim_scene, make_code):
    guide = sim_scene["guides"][0]
    StoreWelcome.objects.create(store=guide.store, text="欢迎来到{门店}，我是{导购姓名}")
    code = make_code(guides=[guide], spread_mode="single")
    code.refresh_from_db()

    scan = sim_scene["sim"].contact_way_scan(config_id=code.config_id, name="赵先生")

    [welcome] = _welcomes(guide.userid, scan.external_userid)
    assert welcome.payload["text"]["content"] == "欢迎来到静安嘉里店，我是张导购"


def test_a_multi_person_code_hands_customers_out_in_turn(sim_scene, make_code):
    guides = sim_scene["guides"]
    code = make_code(guides=guides, spread_mode="round_robin", welcome_text="欢迎")
    code.refresh_from_db()
    userids = [sim_scene["sim"].contact_way_scan(config_id=code.config_id, name=f"客{i}").userid for i in range(4)]
    assert userids == [guides[0].userid, guides[1].userid] * 2


def test_the_welcome_carries_material_attachments_as_wecom_expects(sim_scene, make_code, sendable_materials):
    from scrm.materials.models import Material

    guide = sim_scene["guides"][0]
    kinds = [Material.Kind.IMAGE, Material.Kind.LINK, Material.Kind.MINIPROGRAM, Material.Kind.FILE]
    code = make_code(
        guides=[guide], spread_mode="single", welcome_text="欢迎～", attachments=[sendable_materials[k] for k in kinds]
    )
    code.refresh_from_db()

    scan = sim_scene["sim"].contact_way_scan(config_id=code.config_id, name="钱女士")

    [welcome] = _welcomes(guide.userid, scan.external_userid)
    attachments = welcome.payload["attachments"]
    assert [a["msgtype"] for a in attachments] == ["image", "link", "miniprogram", "file"]
    assert attachments[0]["image"]["media_id"]  # uploaded ahead, accepted by WeCom (the simulator checks)
    assert attachments[1]["link"]["url"] == "https://brand.example.com/news/1"
    assert attachments[2]["miniprogram"]["appid"] == "wx0123456789abcdef"
    assert attachments[2]["miniprogram"]["pic_media_id"]
    # The image's media_id is the library's cached one: the next welcome does not upload it again.
    assert (
        Material.objects.get(pk=sendable_materials[Material.Kind.IMAGE].pk).wecom_media_id
        == attachments[0]["image"]["media_id"]
    )


def test_a_text_material_cannot_be_a_welcome_attachment(sim_scene, make_code, sendable_materials):
    from django.core.exceptions import ValidationError

    from scrm.materials.models import Material

    with pytest.raises(ValidationError) as exc:
        make_code(
            guides=sim_scene["guides"][:1], spread_mode="single", attachments=[sendable_materials[Material.Kind.TEXT]]
        )
    assert "欢迎语附件只能是" in str(exc.value)


def test_a_welcome_code_is_refused_the_second_time(sim_scene, make_code):
    from scrm.wecom import api
    from scrm.wecom.errors import WeComError

    guide = sim_scene["guides"][0]
    code = make_code(guides=[guide], spread_mode="single", welcome_text="欢迎～")
    code.refresh_from_db()
    scan = sim_scene["sim"].contact_way_scan(config_id=code.config_id, name="两次", send=False)
    api.send_welcome_msg(welcome_code=scan.welcome_code, text="第一次")
    with pytest.raises(WeComError) as exc:
        api.send_welcome_msg(welcome_code=scan.welcome_code, text="第二次")
    assert exc.value.errcode == 41051


@pytest.mark.django_db(transaction=False)
def test_the_welcome_is_dispatched_on_its_own_queue_before_the_events_processing(post_callback, monkeypatch, settings):
    from scrm.livecodes import tasks as livecode_tasks
    from scrm.wecom import tasks as wecom_tasks
    from scrm.wecom.simulator.callbacks import contact_event

    order = []
    monkeypatch.setattr(livecode_tasks.send_welcome, "delay", lambda *a: order.append(("welcome", a[0])))
    monkeypatch.setattr(wecom_tasks.process_callback, "delay", lambda row_id: order.append(("process", row_id)))

    post_callback(
        contact_event("add_external_contact", userid="g1", external_userid="wmA", State="s1", WelcomeCode="wc1")
    )
    post_callback(contact_event("add_external_contact", userid="g1", external_userid="wmB", State="s1"))  # no code

    assert [kind for kind, _ in order] == ["welcome", "process", "process"]
    assert order[0][1] == "wc1"
    assert settings.CELERY_TASK_ROUTES["scrm.livecodes.tasks.send_welcome"] == {"queue": "welcome"}


@pytest.mark.django_db(transaction=False)
def test_a_broker_outage_costs_the_welcome_never_the_callback(post_callback, monkeypatch):
    from scrm.livecodes import tasks as livecode_tasks
    from scrm.wecom import tasks as wecom_tasks
    from scrm.wecom.models import CallbackInbox
    from scrm.wecom.simulator.callbacks import contact_event

    def down(*args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(livecode_tasks.send_welcome, "delay", down)
    monkeypatch.setattr(wecom_tasks.process_callback, "delay", down)
    response = post_callback(
        contact_event("add_external_contact", userid="g1", external_userid="wmA", State="s1", WelcomeCode="w")
    )
    assert response.status_code == 200 and CallbackInbox.objects.get().status == CallbackInbox.Status.PENDING
