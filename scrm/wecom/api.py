"""Every WeCom server call the product makes, by name.

Functions return plain dicts/lists from WeCom's JSON and raise WeComError on failure.
External-contact calls use the customer-contact secret; the rest use the app secret.
Calls that wechatpy 1.8.18 lacks go through `client.post/get(path, ...)`.
"""

import datetime as dt
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings

from scrm.wecom.client import get_client
from scrm.wecom.errors import WeComError

MAX_BATCH = 100  # WeCom's cap for batch/get_by_user and transfer calls
TICKET_PREFIX = "ticket"


def _contact():
    return get_client("contact")


def _app():
    return get_client("app")


def _check_ids(ids: list[str], *, name: str) -> list[str]:
    ids = list(ids)
    if not ids:
        raise ValueError(f"{name} must not be empty")
    if len(ids) > MAX_BATCH:
        raise ValueError(f"{name} takes at most {MAX_BATCH} ids per call, got {len(ids)}")
    return ids


# --- members & sign-in ------------------------------------------------------------------------


def user_list(*, department_id: int = 1, fetch_child: bool = True) -> list[dict]:
    return _app().user.list(department_id, fetch_child=fetch_child)


def user_get(userid: str) -> dict:
    return _app().user.get(userid)


def oauth_get_userid(code: str) -> str:
    """The member userid behind an OAuth `code` (one use). Non-members raise WeComError."""
    result = _app().get("auth/getuserinfo", params={"code": code})
    userid = result.get("userid") or result.get("UserId")
    if not userid:
        # A code for someone outside the corp answers an openid / external_userid instead.
        raise WeComError(46004, "code does not belong to a corp member", retryable=False, path="auth/getuserinfo")
    return userid


def get_jsapi_ticket() -> str:
    """The corp jsapi_ticket for wx.config, cached and shared like the token."""
    client = _app()

    def fetch() -> tuple[str, int]:
        result = client.get("get_jsapi_ticket")
        return result["ticket"], int(result.get("expires_in", 7200))

    return client.cached_value(f"{TICKET_PREFIX}:jsapi:{client.corp_id}", fetch)


def get_agent_ticket() -> str:
    """The app's ticket for wx.agentConfig (ticket/get?type=agent_config), cached and shared."""
    client = _app()

    def fetch() -> tuple[str, int]:
        result = client.get("ticket/get", params={"type": "agent_config"})
        return result["ticket"], int(result.get("expires_in", 7200))

    return client.cached_value(f"{TICKET_PREFIX}:agent:{client.corp_id}:{settings.WECOM_AGENT_ID}", fetch)


# --- corp tags --------------------------------------------------------------------------------


def corp_tag_list(*, tag_ids: list[str] | None = None, group_ids: list[str] | None = None) -> list[dict]:
    """tag_group[] with group_id, group_name, order, tag[] (id, name, order, create_time, deleted)."""
    data: dict[str, Any] = {}
    if tag_ids:
        data["tag_id"] = list(tag_ids)
    if group_ids:
        data["group_id"] = list(group_ids)
    return _contact().post("externalcontact/get_corp_tag_list", data=data).get("tag_group", [])


def add_corp_tag(*, group_name: str = "", tags: list[str | dict], group_id: str = "", order: int | None = None) -> dict:
    """Add tags to a group (by id, or a new group by name); returns the tag_group."""
    data: dict[str, Any] = {"tag": [t if isinstance(t, dict) else {"name": t} for t in tags]}
    if group_id:
        data["group_id"] = group_id
    if group_name:
        data["group_name"] = group_name
    if order is not None:
        data["order"] = order
    return _contact().post("externalcontact/add_corp_tag", data=data)["tag_group"]


def edit_corp_tag(*, id: str, name: str | None = None, order: int | None = None) -> None:
    data: dict[str, Any] = {"id": id}
    if name is not None:
        data["name"] = name
    if order is not None:
        data["order"] = order
    _contact().post("externalcontact/edit_corp_tag", data=data)


def del_corp_tag(*, tag_ids: list[str] | None = None, group_ids: list[str] | None = None) -> None:
    if not tag_ids and not group_ids:
        raise ValueError("del_corp_tag needs tag_ids or group_ids")
    _contact().external_contact.del_corp_tag(tag_id=tag_ids or None, group_id=group_ids or None)


def mark_tag(*, userid: str, external_userid: str, add: list[str] = (), remove: list[str] = ()) -> None:
    """Tag (WeCom tag ids) the customer as seen by one member."""
    _contact().external_contact.mark_tag(userid, external_userid, add_tag=list(add), remove_tag=list(remove))


# --- external contacts ------------------------------------------------------------------------


def external_contact_get(external_userid: str) -> dict:
    """{"external_contact": {...}, "follow_user": [...]}."""
    result = _contact().external_contact.get(external_userid)
    return {"external_contact": result["external_contact"], "follow_user": result.get("follow_user", [])}


# The welcome (its own queue) and the add's processing both need the new contact within seconds of
# each other: whichever asks first keeps WeCom's answer this long for the other.
FRESH_CONTACT_TTL = 30


def external_contact_get_fresh(external_userid: str) -> dict:
    """externalcontact/get, shared for FRESH_CONTACT_TTL seconds between the two halves of an add."""
    from django.core.cache import cache

    key = f"wecom:fresh-contact:{external_userid}"
    result = cache.get(key)
    if result is None:
        result = external_contact_get(external_userid)
        cache.set(key, result, FRESH_CONTACT_TTL)
    return result


def external_contact_list(userid: str) -> list[str]:
    """external_userids of one member's customers."""
    return _contact().external_contact.list(userid).get("external_userid", [])


def follow_user_list() -> list[str]:
    """Members with the customer-contact feature."""
    return _contact().external_contact.get_follow_user_list().get("follow_user", [])


def batch_get_by_user(userids: list[str], *, cursor: str = "", limit: int = MAX_BATCH) -> tuple[list[dict], str]:
    """One page of the members' customers: (items with external_contact + follow_info, next_cursor)."""
    userids = _check_ids(userids, name="userids")
    if not 1 <= limit <= MAX_BATCH:
        raise ValueError(f"limit must be 1..{MAX_BATCH}")
    result = _contact().post(
        "externalcontact/batch/get_by_user", data={"userid_list": userids, "cursor": cursor, "limit": limit}
    )
    return result.get("external_contact_list", []), result.get("next_cursor", "")


def iter_batch_get_by_user(userids: list[str], *, limit: int = MAX_BATCH) -> Iterator[dict]:
    """Every customer of the members, page after page."""
    cursor = ""
    while True:
        items, cursor = batch_get_by_user(userids, cursor=cursor, limit=limit)
        yield from items
        if not cursor:
            return


def remark(
    *,
    userid: str,
    external_userid: str,
    remark: str | None = None,
    description: str | None = None,
    remark_company: str | None = None,
    remark_mobiles: list[str] | None = None,
) -> None:
    data: dict[str, Any] = {"userid": userid, "external_userid": external_userid}
    for key, value in (
        ("remark", remark),
        ("description", description),
        ("remark_company", remark_company),
        ("remark_mobiles", remark_mobiles),
    ):
        if value is not None:
            data[key] = value
    _contact().post("externalcontact/remark", data=data)


# --- contact ways (渠道活码) -------------------------------------------------------------------


def add_contact_way(
    *,
    type: int = 1,
    scene: int = 2,
    user: list[str] | None = None,
    party: list[int] | None = None,
    state: str = "",
    remark: str = "",
    skip_verify: bool = True,
    style: int | None = None,
) -> dict:
    """Create a 「联系我」 QR code; returns {"config_id", "qr_code"}."""
    if len(state) > 30:
        raise ValueError("state is at most 30 characters")
    result = _contact().external_contact.add_contact_way(
        type,
        scene,
        style=style,
        remark=remark or None,
        skip_verify=skip_verify,
        state=state or None,
        user=user,
        party=party,
    )
    return {"config_id": result["config_id"], "qr_code": result.get("qr_code", "")}


def get_contact_way(config_id: str) -> dict:
    return _contact().external_contact.get_contact_way(config_id)["contact_way"]


def update_contact_way(config_id: str, **fields: Any) -> None:
    """Change remark, skip_verify, style, state, user or party of a contact way."""
    allowed = {"remark", "skip_verify", "style", "state", "user", "party"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"unknown contact way fields: {sorted(unknown)}")
    _contact().post("externalcontact/update_contact_way", data={"config_id": config_id, **fields})


def del_contact_way(config_id: str) -> None:
    _contact().external_contact.del_contact_way(config_id)


# --- messages ---------------------------------------------------------------------------------


def send_welcome_msg(*, welcome_code: str, text: str = "", attachments: list[dict] | None = None) -> None:
    data: dict[str, Any] = {"welcome_code": welcome_code}
    if text:
        data["text"] = {"content": text}
    if attachments:
        data["attachments"] = attachments
    _contact().external_contact.send_welcome_msg(data)


def add_msg_template(
    *,
    sender: str = "",
    external_userids: list[str] | None = None,
    text: str = "",
    attachments: list[dict] | None = None,
    chat_type: str = "single",
) -> dict:
    """Create a mass-message task for members to confirm; returns {"msgid", "fail_list"}."""
    data: dict[str, Any] = {"chat_type": chat_type}
    if sender:
        data["sender"] = sender
    if external_userids:
        data["external_userid"] = list(external_userids)
    if text:
        data["text"] = {"content": text}
    if attachments:
        data["attachments"] = attachments
    result = _contact().external_contact.add_msg_template(data)
    return {"msgid": result.get("msgid", ""), "fail_list": result.get("fail_list", [])}


def get_groupmsg_list_v2(
    *,
    start_time: int,
    end_time: int,
    chat_type: str = "single",
    creator: str = "",
    filter_type: int = 2,
    limit: int = 100,
    cursor: str = "",
) -> tuple[list[dict], str]:
    data: dict[str, Any] = {
        "chat_type": chat_type,
        "start_time": start_time,
        "end_time": end_time,
        "filter_type": filter_type,
        "limit": limit,
        "cursor": cursor,
    }
    if creator:
        data["creator"] = creator
    result = _contact().post("externalcontact/get_groupmsg_list_v2", data=data)
    return result.get("group_msg_list", []), result.get("next_cursor", "")


def get_groupmsg_task(*, msgid: str, cursor: str = "", limit: int = 1000) -> tuple[list[dict], str]:
    """Each member's part of a group send: task_list[] of {userid, status 0 unsent / 2 sent, send_time}."""
    result = _contact().post(
        "externalcontact/get_groupmsg_task", data={"msgid": msgid, "limit": limit, "cursor": cursor}
    )
    return result.get("task_list", []), result.get("next_cursor", "")


def get_groupmsg_send_result(*, msgid: str, userid: str, cursor: str = "", limit: int = 1000) -> tuple[list[dict], str]:
    """Per customer: send_list[] of {external_userid, userid, status 0/1/2/3, send_time}."""
    data = {"msgid": msgid, "userid": userid, "limit": limit, "cursor": cursor}
    result = _contact().post("externalcontact/get_groupmsg_send_result", data=data)
    return result.get("send_list", []), result.get("next_cursor", "")


def remind_groupmsg_send(*, msgid: str) -> None:
    """Nudge the members who have not sent it yet (WeCom: at most 3 times in 24 hours per group send)."""
    _contact().post("externalcontact/remind_groupmsg_send", data={"msgid": msgid})


def message_send(*, userids: list[str], msg: dict, agent_id: str | int | None = None) -> dict:
    """App message to members; msg holds msgtype and its body, e.g. {"msgtype": "text", "text": {...}}."""
    agent = int(agent_id or settings.WECOM_AGENT_ID)
    return _app().message.send(agent, list(userids), msg=msg)


# --- transfers --------------------------------------------------------------------------------


def transfer_customer(
    *, handover_userid: str, takeover_userid: str, external_userids: list[str], transfer_success_msg: str = ""
) -> list[dict]:
    """Hand customers of an in-service member to another (≤ 100); per-customer errcode list."""
    data: dict[str, Any] = {
        "handover_userid": handover_userid,
        "takeover_userid": takeover_userid,
        "external_userid": _check_ids(external_userids, name="external_userids"),
    }
    if transfer_success_msg:
        data["transfer_success_msg"] = transfer_success_msg
    return _contact().post("externalcontact/transfer_customer", data=data).get("customer", [])


def resigned_transfer_customer(
    *, handover_userid: str, takeover_userid: str, external_userids: list[str]
) -> list[dict]:
    """Hand customers of a departed member to another (≤ 100); per-customer errcode list."""
    data = {
        "handover_userid": handover_userid,
        "takeover_userid": takeover_userid,
        "external_userid": _check_ids(external_userids, name="external_userids"),
    }
    return _contact().post("externalcontact/resigned/transfer_customer", data=data).get("customer", [])


def transfer_result(*, handover_userid: str, takeover_userid: str, cursor: str = "") -> tuple[list[dict], str]:
    """(customer[] with external_userid, status, takeover_time; next_cursor).

    status: 1 done, 2 waiting, 3 refused, 4 takeover at limit, 5 no transfer record.
    """
    return _transfer_result("externalcontact/transfer_result", handover_userid, takeover_userid, cursor)


def resigned_transfer_result(*, handover_userid: str, takeover_userid: str, cursor: str = "") -> tuple[list[dict], str]:
    return _transfer_result("externalcontact/resigned/transfer_result", handover_userid, takeover_userid, cursor)


def _transfer_result(path: str, handover: str, takeover: str, cursor: str) -> tuple[list[dict], str]:
    data = {"handover_userid": handover, "takeover_userid": takeover}
    if cursor:
        data["cursor"] = cursor
    result = _contact().post(path, data=data)
    return result.get("customer", []), result.get("next_cursor", "")


def get_unassigned_list(*, cursor: str = "", page_size: int = 1000) -> tuple[list[dict], str]:
    """Customers of departed members not yet reassigned: (info[], next_cursor).

    Each info item has handover_userid, external_userid and dimission_time.
    """
    data: dict[str, Any] = {"page_size": page_size}
    if cursor:
        data["cursor"] = cursor
    result = _contact().post("externalcontact/get_unassigned_list", data=data)
    return result.get("info", []), result.get("next_cursor", "")


# --- media ------------------------------------------------------------------------------------

MEDIA_KINDS = {"image", "voice", "video", "file"}


def media_upload(kind: str, filename: str, fileobj: IO[bytes]) -> tuple[str, dt.datetime]:
    """Upload temporary media (valid 3 days); returns (media_id, created_at)."""
    if kind not in MEDIA_KINDS:
        raise ValueError(f"media kind must be one of {sorted(MEDIA_KINDS)}")
    # Read once so a token retry can send the same bytes again.
    content = fileobj.read()
    result = _app().post("media/upload", params={"type": kind}, files={"media": (filename, content)})
    created_at = dt.datetime.fromtimestamp(int(result.get("created_at", 0)), tz=dt.UTC)
    return result["media_id"], created_at
