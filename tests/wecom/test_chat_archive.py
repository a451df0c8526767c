"""Chat messages reach 轨迹 › 聊天 only through WeCom's chat archive: msgaudit_notify, then a pull."""

import pytest

from scrm.customers.events import EventKind
from scrm.customers.models import Event
from scrm.wecom import chat_archive
from scrm.wecom.models import ChatArchiveCursor
from scrm.wecom.simulator import finance
from scrm.wecom.simulator.chat import chat_message_add
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def archive_key(settings, tmp_path):
    settings.WECOM_CHAT_ARCHIVE_SDK = "scrm.wecom.simulator.finance.SimFinanceSdk"
    settings.WECOM_CHAT_ARCHIVE_KEY_FILE = str(tmp_path / "archive.pem")
    chat_archive._private_key.cache_clear()


@pytest.fixture
def wang():
    guide = StaffFactory(name="张导购", userid="zhang")
    return FollowRelationFactory(staff=guide, customer=CustomerFactory(name="王小姐"), external_userid="wmWANG01")


def _chat(relation, direction, content):
    return chat_message_add(
        userid=relation.staff.userid,
        external_userid=relation.external_userid,
        direction=direction,
        payload={"content": content},
    )


def test_archived_messages_become_chat_events_with_who_said_what(wang):
    _chat(wang, "in", "这款精华有小样吗？")
    _chat(wang, "out", "有的，到店就送")

    assert chat_archive.chat_archive_pull() == 2

    events = list(Event.objects.filter(kind=EventKind.CHAT_MESSAGE, customer=wang.customer).order_by("id"))
    assert [e.title for e in events] == ["王小姐：这款精华有小样吗？", "张导购：有的，到店就送"]
    assert [e.payload["direction"] for e in events] == ["in", "out"]
    assert all(e.staff == wang.staff for e in events)


def test_a_second_pull_reads_only_new_records(wang):
    _chat(wang, "in", "在吗")
    chat_archive.chat_archive_pull()
    assert chat_archive.chat_archive_pull() == 0

    last = _chat(wang, "in", "想预约周六")
    assert chat_archive.chat_archive_pull() == 1
    assert ChatArchiveCursor.objects.get().seq == last.pk
    assert Event.objects.filter(kind=EventKind.CHAT_MESSAGE).count() == 2


def test_a_record_pulled_twice_is_recorded_once(wang):
    """WeCom may hand the same record again (the cursor was not saved): its msgid keeps it single."""
    _chat(wang, "in", "在吗")
    chat_archive.chat_archive_pull()
    ChatArchiveCursor.objects.update(seq=0)

    assert chat_archive.chat_archive_pull() == 0
    assert Event.objects.filter(kind=EventKind.CHAT_MESSAGE).count() == 1


def test_messages_of_strangers_and_unreadable_records_are_skipped_without_stopping(wang, monkeypatch):
    chat_message_add(userid="zhang", external_userid="wmNOBODY", direction="in", payload={"content": "谁"})
    bad = _chat(wang, "in", "密钥轮换前的消息")
    good = _chat(wang, "in", "正常消息")
    real = chat_archive.random_key_decrypt

    def rotated(encrypted):
        if rotated.calls == 1:
            rotated.calls += 1
            raise ValueError("Decryption failed")
        rotated.calls += 1
        return real(encrypted)

    rotated.calls = 0
    monkeypatch.setattr(chat_archive, "random_key_decrypt", rotated)

    assert chat_archive.chat_archive_pull() == 1
    assert ChatArchiveCursor.objects.get().seq == good.pk > bad.pk
    assert list(Event.objects.values_list("title", flat=True)) == ["王小姐：正常消息"]


def test_media_messages_read_as_their_kind_and_name(wang):
    chat_message_add(
        userid="zhang",
        external_userid="wmWANG01",
        direction="out",
        msgtype="image",
        payload={"mediaid": "m1", "filename": "新品.jpg"},
    )
    chat_archive.chat_archive_pull()
    assert Event.objects.get().title == "张导购：[图片] 新品.jpg"


def test_records_are_encrypted_with_the_products_public_key(wang, settings):
    _chat(wang, "in", "隐私内容")
    record = finance.SimFinanceSdk().get_chat_data(seq=0, limit=10)[0]
    assert "隐私内容" not in str(record)
    assert set(record) == {"seq", "msgid", "publickey_ver", "encrypt_random_key", "encrypt_chat_msg"}


def test_archive_off_pulls_nothing(wang, settings):
    settings.WECOM_CHAT_ARCHIVE_SDK = ""
    _chat(wang, "in", "在吗")
    assert chat_archive.chat_archive_pull() == 0
    assert not Event.objects.exists()


def test_the_msgaudit_notify_callback_pulls_the_archive(wang, post_callback):
    _chat(wang, "in", "能帮我留一瓶吗")
    event = {
        "ToUserName": "ww_demo_corp",
        "FromUserName": "sys",
        "CreateTime": 1764900000,
        "MsgType": "event",
        "AgentID": 2000004,
        "Event": "msgaudit_notify",
    }
    response = post_callback(event)

    assert response.status_code == 200
    assert Event.objects.get(kind=EventKind.CHAT_MESSAGE).title == "王小姐：能帮我留一瓶吗"


def test_a_material_sent_from_the_sidebar_shows_once_not_again_as_its_chat_copy(wang):
    from django.utils import timezone

    from tests.factories import EventFactory

    EventFactory(
        customer=wang.customer, staff=wang.staff, kind=EventKind.MATERIAL_SENT, occurred_at=timezone.now(),
        payload={"material_kind": "text"},
    )  # fmt: skip
    _chat(wang, "out", "郭女士，胜肽紧致面霜最近很受欢迎")  # what WeCom archives of that send
    _chat(wang, "in", "好的谢谢")

    assert chat_archive.chat_archive_pull() == 1
    assert [e.payload["direction"] for e in Event.objects.filter(kind=EventKind.CHAT_MESSAGE)] == ["in"]


def test_what_the_guide_types_right_after_sending_a_picture_stays_on_the_timeline(wang):
    from django.utils import timezone

    from tests.factories import EventFactory

    EventFactory(
        customer=wang.customer, staff=wang.staff, kind=EventKind.MATERIAL_SENT, occurred_at=timezone.now(),
        payload={"material_kind": "image"},
    )  # fmt: skip
    chat_message_add(userid="zhang", external_userid="wmWANG01", direction="out", msgtype="image", payload={})
    _chat(wang, "out", "这是新品的上妆效果，您看看")

    assert chat_archive.chat_archive_pull() == 1
    assert [e.title for e in Event.objects.filter(kind=EventKind.CHAT_MESSAGE)] == [
        "张导购：这是新品的上妆效果，您看看"
    ]


def test_the_simulator_seed_counts_mirrored_chats_as_already_archived(wang):
    from scrm.wecom.simulator.seed import sim_seed_from_domain
    from tests.factories import EventFactory

    EventFactory(customer=wang.customer, staff=wang.staff, kind=EventKind.CHAT_MESSAGE, payload={"content": "在吗"})
    sim_seed_from_domain()

    assert chat_archive.chat_archive_pull() == 0  # the timeline had them: no second copy
    assert Event.objects.filter(kind=EventKind.CHAT_MESSAGE).count() == 1


def test_a_chat_copy_pulled_before_the_sidebar_reports_the_send_still_shows_once(wang):
    """WeCom may archive the message (and we pull it) before the sidebar's report of the send arrives."""
    from scrm.materials import sending
    from tests.factories import MaterialFactory

    material = MaterialFactory(kind="video", title="胜肽面霜质地展示")
    request_id = sending.send_request_id(material_id=material.pk, customer_id=wang.customer.pk, staff_id=wang.staff.pk)
    chat_message_add(userid="zhang", external_userid="wmWANG01", direction="out", msgtype="video", payload={})
    _chat(wang, "out", "这是质地展示，您看看")  # the guide's own words stay
    assert chat_archive.chat_archive_pull() == 2

    sending.material_send_record(request_id=request_id, customer=wang.customer, staff=wang.staff, status="sent")

    timeline = Event.objects.filter(customer=wang.customer).order_by("occurred_at", "id")
    assert [e.title for e in timeline] == ["张导购：这是质地展示，您看看", "张导购发送了素材「胜肽面霜质地展示」"]
