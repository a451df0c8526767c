"""Named WeCom calls (scrm.wecom.api) against the simulator over real HTTP."""

import datetime as dt
import io
import time

import pytest
from django.utils import timezone

from scrm.wecom import api
from scrm.wecom.errors import WeComError
from scrm.wecom.simulator.models import SimFollowUser, SimSentMessage, SimTransfer


@pytest.fixture
def guide_with_customer(wecom_sim):
    wecom_sim.member_add(userid="guide_a", name="导购甲")
    wecom_sim.contact_add(external_userid="wmCUST1", name="王女士", gender=2, unionid="oUNION1")
    wecom_sim.follow_add(userid="guide_a", external_userid="wmCUST1", remark="王姐", state="store_S001")
    return wecom_sim


def test_batch_get_by_user_pages_through_more_than_100_customers(wecom_sim):
    wecom_sim.member_add(userid="guide_a")
    wecom_sim.member_add(userid="guide_b")
    for n in range(130):
        wecom_sim.follow_add(userid="guide_a" if n % 2 else "guide_b", external_userid=f"wmBULK{n:03d}")

    first, cursor = api.batch_get_by_user(["guide_a", "guide_b"], limit=100)
    assert len(first) == 100 and cursor
    assert {"external_contact", "follow_info"} <= set(first[0])

    everyone = list(api.iter_batch_get_by_user(["guide_a", "guide_b"]))
    assert len(everyone) == 130
    assert len({item["external_contact"]["external_userid"] for item in everyone}) == 130


def test_batch_get_by_user_refuses_oversized_requests(db):
    with pytest.raises(ValueError):
        api.batch_get_by_user([f"u{n}" for n in range(101)])
    with pytest.raises(ValueError):
        api.batch_get_by_user(["u"], limit=101)


def test_external_contact_get_returns_contact_and_follow_users_with_tags(guide_with_customer):
    group = guide_with_customer.tag_group_add(name="肤质", tags=["干皮", "油皮"])
    dry = group.tags.get(name="干皮").tag_id
    api.mark_tag(userid="guide_a", external_userid="wmCUST1", add=[dry])

    result = api.external_contact_get("wmCUST1")

    assert result["external_contact"]["name"] == "王女士"
    assert result["external_contact"]["unionid"] == "oUNION1"
    (follow,) = result["follow_user"]
    assert follow["userid"] == "guide_a"
    assert follow["remark"] == "王姐"
    assert follow["state"] == "store_S001"
    assert follow["tags"] == [{"group_name": "肤质", "tag_name": "干皮", "type": 1, "tag_id": dry}]


def test_mark_tag_with_unknown_tag_is_40068(guide_with_customer):
    with pytest.raises(WeComError) as exc:
        api.mark_tag(userid="guide_a", external_userid="wmCUST1", add=["etNOPE"])

    assert exc.value.errcode == 40068
    assert not exc.value.retryable


def test_corp_tag_crud(guide_with_customer):
    group = api.add_corp_tag(group_name="兴趣", tags=["口红", "香水"])
    assert [t["name"] for t in group["tag"]] == ["口红", "香水"]
    lipstick = group["tag"][0]["id"]

    api.edit_corp_tag(id=lipstick, name="唇妆")
    api.del_corp_tag(tag_ids=[group["tag"][1]["id"]])

    (listed,) = api.corp_tag_list()
    assert listed["group_name"] == "兴趣"
    assert [t["name"] for t in listed["tag"]] == ["唇妆"]
    with pytest.raises(WeComError) as exc:
        api.add_corp_tag(group_id=group["group_id"], tags=["唇妆"])
    assert exc.value.errcode == 40071


def test_remark_updates_the_members_view(guide_with_customer):
    api.remark(userid="guide_a", external_userid="wmCUST1", remark="王姐-VIP", description="敏感肌")

    follow = api.external_contact_get("wmCUST1")["follow_user"][0]
    assert (follow["remark"], follow["description"]) == ("王姐-VIP", "敏感肌")


def test_lists_of_members_and_customers(guide_with_customer):
    assert api.external_contact_list("guide_a") == ["wmCUST1"]
    assert api.follow_user_list() == ["guide_a"]
    assert [u["userid"] for u in api.user_list()] == ["guide_a"]


def test_oauth_code_is_exchanged_once(guide_with_customer):
    code = guide_with_customer.oauth_code_issue(userid="guide_a")

    assert api.oauth_get_userid(code) == "guide_a"
    with pytest.raises(WeComError) as exc:
        api.oauth_get_userid(code)
    assert exc.value.errcode == 40029


def test_oauth_code_of_a_non_member_is_refused(wecom_sim):
    code = wecom_sim.oauth_code_issue(openid="oOUTSIDER")

    with pytest.raises(WeComError) as exc:
        api.oauth_get_userid(code)

    assert not exc.value.retryable


def test_media_upload_then_expiry_after_three_days(guide_with_customer):
    media_id, created_at = api.media_upload("image", "poster.png", io.BytesIO(b"\x89PNG fake image bytes"))

    assert abs(created_at - timezone.now()) < dt.timedelta(minutes=1)
    api.message_send(userids=["guide_a"], msg={"msgtype": "image", "image": {"media_id": media_id}})
    assert SimSentMessage.objects.get().touser == ["guide_a"]

    guide_with_customer.media_expire(media_id=media_id)
    with pytest.raises(WeComError) as exc:
        api.message_send(userids=["guide_a"], msg={"msgtype": "image", "image": {"media_id": media_id}})
    assert exc.value.errcode == 40007


def test_media_upload_survives_a_token_refresh(guide_with_customer):
    api.user_get("guide_a")
    guide_with_customer.tokens_expire_all()

    media_id, _ = api.media_upload("file", "price.pdf", io.BytesIO(b"%PDF-1.4 price list"))

    assert media_id


def test_contact_way_crud(guide_with_customer):
    way = api.add_contact_way(user=["guide_a"], state="store_S001", remark="门店海报")
    assert way["config_id"] and way["qr_code"].endswith(".png")

    api.update_contact_way(way["config_id"], remark="春季海报", state="spring")
    got = api.get_contact_way(way["config_id"])
    assert (got["remark"], got["state"], got["user"]) == ("春季海报", "spring", ["guide_a"])

    api.del_contact_way(way["config_id"])
    with pytest.raises(WeComError):
        api.get_contact_way(way["config_id"])


def test_contact_way_state_longer_than_30_is_refused_locally(db):
    with pytest.raises(ValueError):
        api.add_contact_way(user=["guide_a"], state="x" * 31)


def test_welcome_message_code_is_one_use(guide_with_customer):
    code = guide_with_customer.welcome_code_issue(userid="guide_a", external_userid="wmCUST1")

    api.send_welcome_msg(welcome_code=code, text="欢迎光临～")
    with pytest.raises(WeComError):
        api.send_welcome_msg(welcome_code=code, text="欢迎光临～")


def test_msg_template_and_group_msg_list(guide_with_customer):
    result = api.add_msg_template(sender="guide_a", external_userids=["wmCUST1", "wmSTRANGER"], text="新品到店")
    assert result["fail_list"] == ["wmSTRANGER"]

    now = int(time.time())
    items, cursor = api.get_groupmsg_list_v2(start_time=now - 60, end_time=now + 60, creator="guide_a")
    assert [i["msgid"] for i in items] == [result["msgid"]]
    assert items[0]["text"]["content"] == "新品到店"
    assert cursor == ""


def test_transfer_flow_waiting_then_accepted(guide_with_customer):
    guide_with_customer.member_add(userid="guide_b")

    (item,) = api.transfer_customer(handover_userid="guide_a", takeover_userid="guide_b", external_userids=["wmCUST1"])
    assert item == {"external_userid": "wmCUST1", "errcode": 0}
    customers, _ = api.transfer_result(handover_userid="guide_a", takeover_userid="guide_b")
    assert customers[0]["status"] == SimTransfer.Status.WAITING

    guide_with_customer.transfer_settle(external_userid="wmCUST1", accepted=True)

    customers, _ = api.transfer_result(handover_userid="guide_a", takeover_userid="guide_b")
    assert customers[0]["status"] == SimTransfer.Status.SUCCESS and customers[0]["takeover_time"] > 0
    assert api.external_contact_list("guide_b") == ["wmCUST1"]
    assert api.external_contact_list("guide_a") == []


def test_refused_transfer_keeps_the_customer(guide_with_customer):
    guide_with_customer.member_add(userid="guide_b")
    api.transfer_customer(handover_userid="guide_a", takeover_userid="guide_b", external_userids=["wmCUST1"])

    guide_with_customer.transfer_settle(external_userid="wmCUST1", accepted=False)

    customers, _ = api.transfer_result(handover_userid="guide_a", takeover_userid="guide_b")
    assert customers[0]["status"] == SimTransfer.Status.REFUSED
    assert api.external_contact_list("guide_a") == ["wmCUST1"]


def test_transfer_to_the_same_member_is_refused(guide_with_customer):
    with pytest.raises(WeComError):
        api.transfer_customer(handover_userid="guide_a", takeover_userid="guide_a", external_userids=["wmCUST1"])


def test_transfer_of_someone_elses_customer_fails_per_item(guide_with_customer):
    guide_with_customer.member_add(userid="guide_b")
    guide_with_customer.member_add(userid="guide_c")

    (item,) = api.transfer_customer(handover_userid="guide_b", takeover_userid="guide_c", external_userids=["wmCUST1"])

    assert item["errcode"] == 84061


def test_transfer_takes_at_most_100_customers(db):
    with pytest.raises(ValueError):
        api.transfer_customer(handover_userid="a", takeover_userid="b", external_userids=[f"wm{n}" for n in range(101)])


def test_departed_members_customers_are_unassigned_until_resigned_transfer(guide_with_customer):
    guide_with_customer.member_add(userid="guide_b")
    guide_with_customer.member_depart(userid="guide_a")

    info, _ = api.get_unassigned_list()
    assert [(i["handover_userid"], i["external_userid"]) for i in info] == [("guide_a", "wmCUST1")]
    with pytest.raises(WeComError):  # in-service endpoint refuses a departed handover
        api.transfer_customer(handover_userid="guide_a", takeover_userid="guide_b", external_userids=["wmCUST1"])

    api.resigned_transfer_customer(handover_userid="guide_a", takeover_userid="guide_b", external_userids=["wmCUST1"])

    assert api.get_unassigned_list()[0] == []
    customers, _ = api.resigned_transfer_result(handover_userid="guide_a", takeover_userid="guide_b")
    assert customers[0]["status"] == SimTransfer.Status.WAITING
    guide_with_customer.transfer_settle(external_userid="wmCUST1")
    assert SimFollowUser.objects.get().member.userid == "guide_b"
