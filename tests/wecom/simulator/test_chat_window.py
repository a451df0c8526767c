"""The /dev/chat/ window's server side: the page, the customer's messages, sendChatMessage and signatures."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from scrm.wecom.jssdk import jssdk_signature
from scrm.wecom.simulator.chat import chat_message_add
from scrm.wecom.simulator.models import SimChatMessage, SimMedia, SimTicket
from scrm.wecom.simulator.services import media_expire
from tests.factories import FollowRelationFactory, StaffFactory

PAGE = "http://testserver/sidebar/"


@pytest.fixture
def relation(followed_customer, guide):
    return followed_customer.follow_relations.get(staff=guide)


def _send(client, relation, msg, *, userid=None):
    body = {"userid": userid or relation.staff.userid, "external_userid": relation.external_userid, "msg": msg}
    return client.post(reverse("sim_chat_send"), json.dumps(body), content_type="application/json")


def test_page_lists_the_guides_customers_and_sets_the_oauth_cookie(client, relation, guide):
    StaffFactory(name="离职导购", is_active=False)
    chat_message_add(
        userid=guide.userid, external_userid=relation.external_userid, direction="in", payload={"content": "在吗"}
    )

    response = client.get(reverse("sim_chat"), {"userid": guide.userid, "ext": relation.external_userid})

    body = response.content.decode()
    assert response.status_code == 200
    assert guide.name in body and "离职导购" not in body
    assert relation.customer.name in body
    assert "在吗" in body
    assert 'src="/sidebar/"' in body
    assert response.cookies["sim_userid"].value == guide.userid


def test_page_query_count_does_not_grow_with_customers(client, guide, django_assert_max_num_queries):
    for _ in range(8):
        FollowRelationFactory(staff=guide)
    with django_assert_max_num_queries(6):
        client.get(reverse("sim_chat"), {"userid": guide.userid})


def test_switching_guide_signs_the_previous_one_out(guide_client, guide, store):
    other = StaffFactory(store=store)

    guide_client.get(reverse("sim_chat"), {"userid": other.userid})

    assert guide_client.get("/sidebar/").status_code == 302  # the sidebar will run OAuth as `other`


def test_customer_message_is_stored_and_rendered(client, relation):
    data = {"userid": relation.staff.userid, "ext": relation.external_userid, "content": "周末有活动吗"}

    response = client.post(reverse("sim_chat_receive"), data)

    assert response.status_code == 200
    assert "周末有活动吗" in response.content.decode()
    row = SimChatMessage.objects.get()
    assert (row.direction, row.payload) == ("in", {"content": "周末有活动吗"})


def test_customer_of_a_transferred_relation_can_no_longer_write(client, relation):
    relation.ended_at = timezone.now()
    relation.save(update_fields=["ended_at"])
    data = {"userid": relation.staff.userid, "ext": relation.external_userid, "content": "还在吗"}

    response = client.post(reverse("sim_chat_receive"), data)

    assert response.status_code == 404
    assert "不是这位导购的好友" in response.content.decode()
    assert not SimChatMessage.objects.exists()


def test_empty_customer_message_is_a_form_error(client, relation):
    data = {"userid": relation.staff.userid, "ext": relation.external_userid, "content": "  "}

    response = client.post(reverse("sim_chat_receive"), data)

    assert response.status_code == 400
    assert "请输入" in response.content.decode()
    assert not SimChatMessage.objects.exists()


@pytest.mark.parametrize(
    "msg",
    [
        {"msgtype": "text", "text": {"content": "您好"}},
        {"msgtype": "news", "news": {"link": "https://shop.example/a", "title": "新品", "desc": "d", "imgUrl": ""}},
        {
            "msgtype": "miniprogram",
            "miniprogram": {"appid": "wx123", "title": "商城", "imgUrl": "https://x/1.png", "page": "pages/i.html"},
        },
    ],
)
def test_send_stores_valid_messages_as_outgoing(client, relation, msg):
    response = _send(client, relation, msg)

    assert response.json()["err_msg"] == "sendChatMessage:ok"
    row = SimChatMessage.objects.get()
    assert (row.direction, row.msgtype) == ("out", msg["msgtype"])


def test_send_accepts_only_live_media_of_the_right_type(client, relation):
    SimMedia.objects.create(media_id="M_IMG", type="image", filename="poster.jpg")

    assert _send(client, relation, {"msgtype": "image", "image": {"mediaid": "M_IMG"}}).status_code == 200
    assert (
        "not a video" in _send(client, relation, {"msgtype": "video", "video": {"mediaid": "M_IMG"}}).json()["err_msg"]
    )
    media_expire(media_id="M_IMG")
    assert (
        "invalid media_id"
        in _send(client, relation, {"msgtype": "image", "image": {"mediaid": "M_IMG"}}).json()["err_msg"]
    )
    assert SimChatMessage.objects.count() == 1


@pytest.mark.parametrize(
    ("msg", "reason"),
    [
        ({"msgtype": "voice", "voice": {}}, "invalid msgtype"),
        ({"msgtype": "text", "text": {"content": ""}}, "text.content is required"),
        ({"msgtype": "text"}, "text is required"),
        ({"msgtype": "news", "news": {"link": "javascript:x", "title": "t"}}, "http(s)"),
        (
            {"msgtype": "miniprogram", "miniprogram": {"appid": "a", "title": "t", "imgUrl": "i", "page": "p/i"}},
            ".html",
        ),
        ("not an object", "invalid arguments"),
    ],
)
def test_send_refuses_malformed_messages(client, relation, msg, reason):
    response = _send(client, relation, msg)

    assert response.status_code == 400
    assert response.json()["err_msg"].startswith("sendChatMessage:fail")
    assert reason in response.json()["err_msg"]
    assert not SimChatMessage.objects.exists()


def test_send_to_someone_who_is_not_the_guides_customer_fails(client, relation, store):
    response = _send(client, relation, {"msgtype": "text", "text": {"content": "hi"}}, userid=StaffFactory().userid)

    assert response.status_code == 400
    assert not SimChatMessage.objects.exists()


def test_send_with_broken_json_is_a_400(client, db):
    response = client.post(reverse("sim_chat_send"), "{", content_type="application/json")

    assert response.status_code == 400


def _verify(client, **fields):
    return client.post(reverse("sim_chat_verify_signature"), json.dumps(fields), content_type="application/json")


@pytest.fixture
def agent_ticket(db):
    return SimTicket.objects.create(
        ticket="tkAGENT", kind="agent_config", expires_at=timezone.now() + dt.timedelta(hours=2)
    ).ticket


def test_agent_signature_is_checked_against_the_issued_ticket_and_page_url(client, settings, agent_ticket):
    signature = jssdk_signature(ticket=agent_ticket, noncestr="n1", timestamp=1700000000, url=PAGE)
    fields = {"kind": "agent", "corpid": settings.WECOM_CORP_ID, "agentid": settings.WECOM_AGENT_ID}
    fields.update(timestamp=1700000000, nonceStr="n1", signature=signature)

    assert _verify(client, url=PAGE + "#frag", **fields).json() == {"ok": True}
    assert _verify(client, url=PAGE + "?other=1", **fields).json()["reason"] == "invalid signature"
    assert _verify(client, url=PAGE, **{**fields, "agentid": "1"}).json()["reason"] == "invalid agentid"
    SimTicket.objects.update(expires_at=timezone.now())
    assert _verify(client, url=PAGE, **fields).json()["reason"] == "invalid signature"


def test_verify_refuses_unknown_kinds(client, db):
    assert _verify(client, kind="other").status_code == 400
