"""The simulator's 企业群发 APIs over real HTTP: documented shapes, errcodes and limits."""

import time

import pytest

from scrm.wecom import api
from scrm.wecom.client import get_client
from scrm.wecom.errors import WeComError
from scrm.wecom.simulator import groupmsg
from scrm.wecom.simulator.models import SimMsgTemplate


@pytest.fixture
def sim(wecom_sim):
    wecom_sim.member_add(userid="guide_a")
    for n in range(3):
        wecom_sim.follow_add(userid="guide_a", external_userid=f"wmC{n}")
    return wecom_sim


def _post(path: str, body: dict) -> dict:
    try:
        return get_client("contact").post(path, data=body)
    except WeComError as exc:
        return {"errcode": exc.errcode}


def test_limits_answer_40058(sim):
    base = {"chat_type": "single", "sender": "guide_a", "text": {"content": "hi"}}
    link = {"msgtype": "link", "link": {"title": "t", "url": "https://example.com"}}
    too_many = _post("externalcontact/add_msg_template", base | {"attachments": [link] * 10})
    assert too_many["errcode"] == 40058
    ids = [f"wm{n}" for n in range(10001)]
    assert _post("externalcontact/add_msg_template", base | {"external_userid": ids})["errcode"] == 40058
    now = int(time.time())
    span = {"chat_type": "single", "start_time": now - 40 * 86400, "end_time": now}
    assert _post("externalcontact/get_groupmsg_list_v2", span)["errcode"] == 40058
    assert _post("externalcontact/get_groupmsg_task", {"msgid": "nope"})["errcode"] == 40058


def test_task_and_send_result_shapes_and_paging(sim):
    made = api.add_msg_template(sender="guide_a", external_userids=["wmC0", "wmC1", "wmC2"], text="上新")
    tasks, cursor = api.get_groupmsg_task(msgid=made["msgid"])
    assert tasks == [{"userid": "guide_a", "status": 0}] and cursor == ""

    groupmsg.member_confirm(template=SimMsgTemplate.objects.get(msgid=made["msgid"]), userid="guide_a")
    (task,), _ = api.get_groupmsg_task(msgid=made["msgid"])
    assert task["status"] == 2 and task["send_time"] > 0
    first, cursor = api.get_groupmsg_send_result(msgid=made["msgid"], userid="guide_a", limit=2)
    rest, end = api.get_groupmsg_send_result(msgid=made["msgid"], userid="guide_a", limit=2, cursor=cursor)
    assert cursor and end == ""
    rows = first + rest
    assert [r["external_userid"] for r in rows] == ["wmC0", "wmC1", "wmC2"]
    assert {r["status"] for r in rows} == {1} and all(r["send_time"] for r in rows)
    assert set(rows[0]) == {"external_userid", "userid", "status", "send_time"}
