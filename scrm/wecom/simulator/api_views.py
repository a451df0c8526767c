"""The simulated WeCom server API under /_wecom/cgi-bin/: WeCom's paths, JSON shapes and errcodes.

Every answer is HTTP 200 with errcode/errmsg, as WeCom does. Dev and tests only.
"""

import datetime as dt
import json
import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from scrm.wecom.simulator import faults, services
from scrm.wecom.simulator.models import (
    OAUTH_CODE_TTL,
    TOKEN_TTL_SECONDS,
    WELCOME_CODE_TTL,
    SecretKind,
    SimAccessToken,
    SimContactWay,
    SimExternalContact,
    SimFollowUser,
    SimMedia,
    SimMember,
    SimMsgTemplate,
    SimOAuthCode,
    SimSentMessage,
    SimTag,
    SimTagGroup,
    SimTicket,
    SimTransfer,
    SimWelcomeCode,
)

MAX_LIMIT = 100


class SimError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


def _ok(**data) -> dict:
    return {"errcode": 0, "errmsg": "ok", **data}


def _cursor_page(items: list, cursor: str, limit: int) -> tuple[list, str]:
    try:
        start = int(cursor or 0)
    except ValueError as exc:
        raise SimError(40058, "invalid cursor") from exc
    page = items[start : start + limit]
    nxt = str(start + limit) if start + limit < len(items) else ""
    return page, nxt


def _limit(body: dict, default: int = MAX_LIMIT, maximum: int = MAX_LIMIT) -> int:
    try:
        limit = int(body.get("limit") or default)
    except (TypeError, ValueError) as exc:
        raise SimError(40058, "invalid limit") from exc
    if not 1 <= limit <= maximum:
        raise SimError(40058, f"limit must be 1..{maximum}")
    return limit


def _member(userid: str, *, active: bool | None = None) -> SimMember:
    member = SimMember.objects.filter(userid=userid or "").first()
    if member is None:
        raise SimError(60111, f"userid not found: {userid}")
    if active is True and member.status != SimMember.Status.ACTIVE:
        raise SimError(60111, f"userid not active: {userid}")
    return member


def _follow(userid: str, external_userid: str) -> SimFollowUser:
    follow = (
        SimFollowUser.objects.select_related("member", "contact")
        .filter(member__userid=userid, contact__external_userid=external_userid)
        .first()
    )
    if follow is None:
        raise SimError(84061, "not external contact")
    return follow


def _ts(value: dt.datetime) -> int:
    return int(value.timestamp())


# --- serialisers ------------------------------------------------------------------------------


def _contact_json(contact: SimExternalContact) -> dict:
    data = {
        "external_userid": contact.external_userid,
        "name": contact.name,
        "avatar": contact.avatar,
        "type": contact.type,
        "gender": contact.gender,
    }
    if contact.unionid:
        data["unionid"] = contact.unionid
    return data


def _follow_json(follow: SimFollowUser, tags: dict[str, SimTag], *, detailed_tags: bool) -> dict:
    data = {
        "userid": follow.member.userid,
        "remark": follow.remark,
        "description": follow.description,
        "createtime": follow.createtime,
        "remark_mobiles": follow.remark_mobiles,
        "add_way": follow.add_way,
        "oper_userid": follow.oper_userid,
    }
    if follow.state:
        data["state"] = follow.state
    live = [tags[t] for t in follow.tags if t in tags]
    if detailed_tags:
        data["tags"] = [{"group_name": t.group.name, "tag_name": t.name, "type": 1, "tag_id": t.tag_id} for t in live]
    else:
        data["tag_id"] = [t.tag_id for t in live]
    return data


def _live_tags() -> dict[str, SimTag]:
    return {t.tag_id: t for t in SimTag.objects.filter(deleted=False, group__deleted=False).select_related("group")}


def _group_json(group: SimTagGroup, tags: list[SimTag]) -> dict:
    return {
        "group_id": group.group_id,
        "group_name": group.name,
        "create_time": group.create_time,
        "order": group.order,
        "deleted": group.deleted,
        "tag": [
            {"id": t.tag_id, "name": t.name, "create_time": t.create_time, "order": t.order, "deleted": t.deleted}
            for t in tags
        ],
    }


def _check_media(attachments: list) -> None:
    ids = []
    for item in attachments or []:
        for kind in ("image", "video", "file"):
            if isinstance(item, dict) and isinstance(item.get(kind), dict) and item[kind].get("media_id"):
                ids.append(item[kind]["media_id"])
    _check_media_ids(ids)


def _check_media_ids(ids: list[str]) -> None:
    found = {m.media_id: m for m in SimMedia.objects.filter(media_id__in=ids)}
    for media_id in ids:
        media = found.get(media_id)
        if media is None or media.expired:
            raise SimError(40007, f"invalid media_id: {media_id}")


# --- token, tickets, OAuth, members -----------------------------------------------------------


def gettoken(request: HttpRequest, body: dict) -> dict:
    if request.GET.get("corpid") != settings.WECOM_CORP_ID:
        raise SimError(40013, "invalid corpid")
    secret = request.GET.get("corpsecret", "")
    kinds = {settings.WECOM_SECRET: SecretKind.APP, settings.WECOM_CONTACT_SECRET: SecretKind.CONTACT}
    if not secret or secret not in kinds:
        raise SimError(40001, "invalid credential: corpsecret")
    token = SimAccessToken.objects.create(
        token=services.new_id("tok", 24),
        kind=kinds[secret],
        expires_at=timezone.now() + dt.timedelta(seconds=TOKEN_TTL_SECONDS),
    )
    return _ok(access_token=token.token, expires_in=TOKEN_TTL_SECONDS)


def _ticket(kind: str) -> dict:
    ticket = SimTicket.objects.create(
        ticket=services.new_id("tk", 24), kind=kind, expires_at=timezone.now() + dt.timedelta(seconds=7200)
    )
    return _ok(ticket=ticket.ticket, expires_in=7200)


def get_jsapi_ticket(request: HttpRequest, body: dict) -> dict:
    return _ticket(SimTicket.Kind.JSAPI)


def ticket_get(request: HttpRequest, body: dict) -> dict:
    if request.GET.get("type") != "agent_config":
        raise SimError(40058, "invalid type")
    return _ticket(SimTicket.Kind.AGENT)


def _take_code(code: str) -> SimOAuthCode:
    with transaction.atomic():
        row = SimOAuthCode.objects.select_for_update().filter(code=code or "").first()
        if row is None or row.used_at or row.created_at + OAUTH_CODE_TTL < timezone.now():
            raise SimError(40029, "invalid code")
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
    return row


def auth_getuserinfo(request: HttpRequest, body: dict) -> dict:
    row = _take_code(request.GET.get("code", ""))
    if row.userid:
        return _ok(userid=row.userid, user_ticket=services.new_id("ut", 16), expires_in=1800)
    return _ok(openid=row.openid)


def user_getuserinfo(request: HttpRequest, body: dict) -> dict:
    # The older exchange spells the member id `UserId`.
    row = _take_code(request.GET.get("code", ""))
    if row.userid:
        return _ok(UserId=row.userid, DeviceId="")
    return _ok(OpenId=row.openid, DeviceId="")


def _member_json(member: SimMember) -> dict:
    return {
        "userid": member.userid,
        "name": member.name,
        "department": member.department or [1],
        "avatar": member.avatar,
        "status": 1 if member.status == SimMember.Status.ACTIVE else 5,
    }


def user_get(request: HttpRequest, body: dict) -> dict:
    return _ok(**_member_json(_member(request.GET.get("userid", ""))))


def user_list(request: HttpRequest, body: dict) -> dict:
    try:
        department = int(request.GET.get("department_id") or 1)
    except ValueError as exc:
        raise SimError(60123, "invalid department_id") from exc
    fetch_child = request.GET.get("fetch_child") == "1"
    members = SimMember.objects.filter(status=SimMember.Status.ACTIVE).order_by("userid")
    # One flat corp: department 1 is the root and holds everyone when fetch_child is set.
    chosen = [m for m in members if department in (m.department or [1]) or (department == 1 and fetch_child)]
    return _ok(userlist=[_member_json(m) for m in chosen])


# --- external contacts ------------------------------------------------------------------------


def ec_list(request: HttpRequest, body: dict) -> dict:
    member = _member(request.GET.get("userid", ""))
    ids = list(member.follows.order_by("id").values_list("contact__external_userid", flat=True))
    return _ok(external_userid=ids)


def ec_get(request: HttpRequest, body: dict) -> dict:
    external_userid = request.GET.get("external_userid", "")
    contact = (
        SimExternalContact.objects.filter(external_userid=external_userid)
        .prefetch_related(Prefetch("follows", queryset=SimFollowUser.objects.select_related("member").order_by("id")))
        .first()
    )
    if contact is None:
        raise SimError(40096, "invalid external userid")
    tags = _live_tags()
    return _ok(
        external_contact=_contact_json(contact),
        follow_user=[_follow_json(f, tags, detailed_tags=True) for f in contact.follows.all()],
        next_cursor="",
    )


def ec_batch_get_by_user(request: HttpRequest, body: dict) -> dict:
    userids = body.get("userid_list") or ([body["userid"]] if body.get("userid") else [])
    if not userids or len(userids) > MAX_LIMIT:
        raise SimError(40058, "userid_list must hold 1..100 userids")
    limit = _limit(body)
    follows = list(
        SimFollowUser.objects.filter(member__userid__in=userids).select_related("member", "contact").order_by("id")
    )
    page, nxt = _cursor_page(follows, body.get("cursor", ""), limit)
    tags = _live_tags()
    return _ok(
        external_contact_list=[
            {"external_contact": _contact_json(f.contact), "follow_info": _follow_json(f, tags, detailed_tags=False)}
            for f in page
        ],
        next_cursor=nxt,
    )


def ec_follow_user_list(request: HttpRequest, body: dict) -> dict:
    ids = SimMember.objects.filter(status=SimMember.Status.ACTIVE).order_by("userid").values_list("userid", flat=True)
    return _ok(follow_user=list(ids))


def ec_remark(request: HttpRequest, body: dict) -> dict:
    follow = _follow(body.get("userid", ""), body.get("external_userid", ""))
    changed = []
    for field in ("remark", "description"):
        if field in body:
            setattr(follow, field, str(body[field])[: 100 if field == "remark" else 255])
            changed.append(field)
    if "remark_mobiles" in body:
        follow.remark_mobiles = list(body["remark_mobiles"] or [])
        changed.append("remark_mobiles")
    if changed:
        follow.save(update_fields=changed)
    return _ok()


# --- corp tags --------------------------------------------------------------------------------


def tag_list(request: HttpRequest, body: dict) -> dict:
    tag_ids = set(body.get("tag_id") or [])
    group_ids = set(body.get("group_id") or [])
    groups = SimTagGroup.objects.filter(deleted=False).prefetch_related(
        Prefetch("tags", queryset=SimTag.objects.filter(deleted=False))
    )
    if group_ids:
        groups = groups.filter(group_id__in=group_ids)
    answer = []
    for group in groups:
        tags = [t for t in group.tags.all() if not tag_ids or t.tag_id in tag_ids]
        if tag_ids and not tags:
            continue
        answer.append(_group_json(group, tags))
    return _ok(tag_group=answer)


def tag_add(request: HttpRequest, body: dict) -> dict:
    now = int(time.time())
    names = [t.get("name", "").strip() for t in body.get("tag") or [] if isinstance(t, dict)]
    if not names or any(not n or len(n) > 30 for n in names):
        raise SimError(40058, "tag names must be 1..30 characters")
    if len(set(names)) != len(names):
        raise SimError(40071, "duplicate tag name")
    if body.get("group_id"):
        group = SimTagGroup.objects.filter(group_id=body["group_id"], deleted=False).first()
        if group is None:
            raise SimError(40068, "invalid tag group id")
    else:
        group_name = (body.get("group_name") or "").strip()
        if not group_name or len(group_name) > 30:
            raise SimError(40058, "group_name must be 1..30 characters")
        group = SimTagGroup.objects.filter(name=group_name, deleted=False).first() or SimTagGroup.objects.create(
            group_id=services.new_id("et"), name=group_name, order=int(body.get("order") or 0), create_time=now
        )
    if group.tags.filter(deleted=False, name__in=names).exists():
        raise SimError(40071, "tag name already exists in the group")
    orders = {t.get("name"): int(t.get("order") or 0) for t in body["tag"] if isinstance(t, dict)}
    created = [
        SimTag.objects.create(group=group, tag_id=services.new_id("et"), name=n, order=orders[n], create_time=now)
        for n in names
    ]
    return _ok(tag_group=_group_json(group, created))


def tag_edit(request: HttpRequest, body: dict) -> dict:
    target_id = body.get("id", "")
    target = (
        SimTag.objects.filter(tag_id=target_id, deleted=False).first()
        or SimTagGroup.objects.filter(group_id=target_id, deleted=False).first()
    )
    if target is None:
        raise SimError(40068, "invalid tag id")
    fields = []
    if body.get("name"):
        if len(body["name"]) > 30:
            raise SimError(40058, "name too long")
        target.name = body["name"]
        fields.append("name")
    if body.get("order") is not None:
        target.order = int(body["order"])
        fields.append("order")
    if fields:
        target.save(update_fields=fields)
    return _ok()


def tag_del(request: HttpRequest, body: dict) -> dict:
    tag_ids = body.get("tag_id") or []
    group_ids = body.get("group_id") or []
    if not tag_ids and not group_ids:
        raise SimError(40058, "tag_id or group_id required")
    tags = SimTag.objects.filter(tag_id__in=tag_ids, deleted=False)
    groups = SimTagGroup.objects.filter(group_id__in=group_ids, deleted=False)
    if tags.count() != len(set(tag_ids)) or groups.count() != len(set(group_ids)):
        raise SimError(40068, "invalid tag id")
    with transaction.atomic():
        SimTag.objects.filter(group__in=groups).update(deleted=True)
        groups.update(deleted=True)
        affected = set(tags.values_list("group_id", flat=True))
        tags.update(deleted=True)
        # A group whose last tag is gone is deleted too, as WeCom does.
        for group in SimTagGroup.objects.filter(pk__in=affected):
            if not group.tags.filter(deleted=False).exists():
                group.deleted = True
                group.save(update_fields=["deleted"])
    return _ok()


def tag_mark(request: HttpRequest, body: dict) -> dict:
    add = list(body.get("add_tag") or [])
    remove = list(body.get("remove_tag") or [])
    if not add and not remove:
        raise SimError(40058, "add_tag or remove_tag required")
    _member(body.get("userid", ""))
    follow = _follow(body.get("userid", ""), body.get("external_userid", ""))
    live = set(SimTag.objects.filter(tag_id__in=add + remove, deleted=False).values_list("tag_id", flat=True))
    if set(add + remove) - live:
        raise SimError(40068, "invalid tagid")
    tags = [t for t in follow.tags if t not in remove]
    tags += [t for t in add if t not in tags]
    follow.tags = tags
    follow.save(update_fields=["tags"])
    return _ok()


# --- contact ways -----------------------------------------------------------------------------


def _contact_way_fields(body: dict, way: SimContactWay) -> list[str]:
    fields = []
    if "state" in body:
        if len(body["state"] or "") > 30:
            raise SimError(40058, "state is at most 30 characters")
        way.state = body["state"] or ""
        fields.append("state")
    if "remark" in body:
        if len(body["remark"] or "") > 30:
            raise SimError(40058, "remark is at most 30 characters")
        way.remark = body["remark"] or ""
        fields.append("remark")
    for name in ("skip_verify", "style"):
        if name in body:
            setattr(way, name, body[name])
            fields.append(name)
    if "user" in body:
        users = list(body["user"] or [])
        known = set(
            SimMember.objects.filter(userid__in=users, status=SimMember.Status.ACTIVE).values_list("userid", flat=True)
        )
        if set(users) - known:
            raise SimError(40003, "invalid userid")
        way.user = users
        fields.append("user")
    if "party" in body:
        way.party = list(body["party"] or [])
        fields.append("party")
    return fields


def way_add(request: HttpRequest, body: dict) -> dict:
    if body.get("type") not in (1, 2) or body.get("scene") not in (1, 2):
        raise SimError(40058, "type must be 1 or 2 and scene 1 or 2")
    way = SimContactWay(config_id=services.new_id("cw", 16), type=body["type"], scene=body["scene"])
    _contact_way_fields(body, way)
    if not way.user and not way.party:
        raise SimError(40058, "user or party required")
    if way.type == 1 and (len(way.user) != 1 or way.party):
        raise SimError(40058, "a single contact way takes exactly one user")
    if way.scene == 2:
        way.qr_code = request.build_absolute_uri(f"/_wecom/qr/{way.config_id}.png")
    way.save()
    return _ok(config_id=way.config_id, qr_code=way.qr_code)


def _way(body: dict) -> SimContactWay:
    way = SimContactWay.objects.filter(config_id=body.get("config_id") or "").first()
    if way is None:
        raise SimError(41044, "invalid config_id")
    return way


def way_get(request: HttpRequest, body: dict) -> dict:
    way = _way(body)
    return _ok(
        contact_way={
            "config_id": way.config_id,
            "type": way.type,
            "scene": way.scene,
            "style": way.style,
            "remark": way.remark,
            "skip_verify": way.skip_verify,
            "state": way.state,
            "qr_code": way.qr_code,
            "user": way.user,
            "party": way.party,
        }
    )


def way_update(request: HttpRequest, body: dict) -> dict:
    way = _way(body)
    fields = _contact_way_fields(body, way)
    if fields:
        way.save(update_fields=fields)
    return _ok()


def way_del(request: HttpRequest, body: dict) -> dict:
    _way(body).delete()
    return _ok()


# --- messages ---------------------------------------------------------------------------------


def welcome_send(request: HttpRequest, body: dict) -> dict:
    with transaction.atomic():
        row = SimWelcomeCode.objects.select_for_update().filter(code=body.get("welcome_code") or "").first()
        if row is None or row.used_at or row.created_at + WELCOME_CODE_TTL < timezone.now():
            raise SimError(41051, "invalid welcome_code")
        if not body.get("text") and not body.get("attachments"):
            raise SimError(40058, "text or attachments required")
        _check_media(body.get("attachments"))
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        services.chat_message_add(
            userid=row.userid,
            external_userid=row.external_userid,
            direction="out",
            msgtype="welcome",
            payload={"text": body.get("text") or {}, "attachments": body.get("attachments") or []},
        )
    return _ok()


def msg_template_add(request: HttpRequest, body: dict) -> dict:
    if not body.get("text") and not body.get("attachments"):
        raise SimError(40058, "text or attachments required")
    chat_type = body.get("chat_type") or "single"
    sender = body.get("sender") or ""
    external_userids = list(body.get("external_userid") or [])
    if sender:
        _member(sender, active=True)
    if not sender and not external_userids:
        raise SimError(40058, "sender or external_userid required")
    _check_media(body.get("attachments"))
    fail_list = []
    if sender and external_userids:
        mine = set(
            SimFollowUser.objects.filter(
                member__userid=sender, contact__external_userid__in=external_userids
            ).values_list("contact__external_userid", flat=True)
        )
        fail_list = [e for e in external_userids if e not in mine]
    template = SimMsgTemplate.objects.create(
        msgid=services.new_id("msg", 12),
        chat_type=chat_type,
        creator=sender,
        create_type=1 if sender else 0,
        external_userids=[e for e in external_userids if e not in fail_list],
        text=(body.get("text") or {}).get("content", ""),
        attachments=body.get("attachments") or [],
    )
    return _ok(fail_list=fail_list, msgid=template.msgid)


def groupmsg_list_v2(request: HttpRequest, body: dict) -> dict:
    try:
        start, end = int(body["start_time"]), int(body["end_time"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SimError(40058, "start_time and end_time required") from exc
    limit = _limit(body)
    rows = SimMsgTemplate.objects.filter(
        chat_type=body.get("chat_type") or "single",
        created_at__gte=dt.datetime.fromtimestamp(start, tz=dt.UTC),
        created_at__lte=dt.datetime.fromtimestamp(end, tz=dt.UTC),
    ).order_by("id")
    if body.get("creator"):
        rows = rows.filter(creator=body["creator"])
    if body.get("filter_type") in (0, 1):
        rows = rows.filter(create_type=body["filter_type"])
    page, nxt = _cursor_page(list(rows), body.get("cursor", ""), limit)
    items = []
    for row in page:
        item = {
            "msgid": row.msgid,
            "creator": row.creator,
            "create_type": row.create_type,
            "create_time": str(_ts(row.created_at)),
            "attachments": row.attachments,
        }
        if row.text:
            item["text"] = {"content": row.text}
        items.append(item)
    return _ok(group_msg_list=items, next_cursor=nxt)


def _check_template_card(card: dict) -> None:
    if card.get("card_type") not in {"text_notice", "news_notice", "button_interaction", "vote_interaction"}:
        raise SimError(40058, "template_card.card_type invalid")
    action = card.get("card_action") or {}
    if card["card_type"] in {"text_notice", "news_notice"} and not (action.get("type") and action.get("url")):
        raise SimError(40058, "template_card.card_action required")


def _check_app_message_limits(userids: list[str]) -> None:
    """WeCom caps how many app messages one member receives per app per minute and per day; beyond the
    caps (settings WECOM_SIM_APP_MSG_PER_MINUTE / _PER_DAY) the simulator answers 45009."""
    now = timezone.now()
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    recent = list(SimSentMessage.objects.filter(created_at__gte=day_start).values_list("touser", "created_at"))
    minute_ago = now - dt.timedelta(minutes=1)
    for userid in userids:
        today = [at for touser, at in recent if userid in touser]
        if len(today) >= settings.WECOM_SIM_APP_MSG_PER_DAY:
            raise SimError(45009, f"api freq out of limit: {userid} reached the daily app message limit")
        if sum(1 for at in today if at >= minute_ago) >= settings.WECOM_SIM_APP_MSG_PER_MINUTE:
            raise SimError(45009, f"api freq out of limit: {userid} reached the per-minute app message limit")


def message_send(request: HttpRequest, body: dict) -> dict:
    if str(body.get("agentid", "")) != str(settings.WECOM_AGENT_ID):
        raise SimError(301002, "invalid agentid")
    msgtype = body.get("msgtype") or ""
    if msgtype not in body or not isinstance(body.get(msgtype), dict):
        raise SimError(40008, "invalid message type")
    if msgtype in ("image", "voice", "video", "file"):
        _check_media_ids([body[msgtype].get("media_id", "")])
    users = [u for u in (body.get("touser") or "").split("|") if u]
    if not users:
        raise SimError(40058, "touser required")
    known = set(
        SimMember.objects.filter(userid__in=users, status=SimMember.Status.ACTIVE).values_list("userid", flat=True)
    )
    if msgtype == "template_card":
        _check_template_card(body[msgtype])
    _check_app_message_limits(sorted(known))
    SimSentMessage.objects.create(
        touser=[u for u in users if u in known], agentid=str(body["agentid"]), msgtype=msgtype, payload=body[msgtype]
    )
    return _ok(invaliduser="|".join(u for u in users if u not in known), msgid=services.new_id("m", 8))


# --- transfers --------------------------------------------------------------------------------


def _transfer(body: dict, *, resigned: bool) -> dict:
    handover_id, takeover_id = body.get("handover_userid", ""), body.get("takeover_userid", "")
    external_userids = list(body.get("external_userid") or [])
    if not external_userids or len(external_userids) > MAX_LIMIT:
        raise SimError(40058, "external_userid must hold 1..100 ids")
    handover = _member(handover_id)
    _member(takeover_id, active=True)
    if handover_id == takeover_id:
        raise SimError(40098, "handover and takeover must be different members")
    if resigned and handover.status != SimMember.Status.DEPARTED:
        raise SimError(40099, "handover member has not departed; use transfer_customer")
    if not resigned and handover.status != SimMember.Status.ACTIVE:
        raise SimError(40099, "handover member has departed; use resigned/transfer_customer")
    mine = set(
        SimFollowUser.objects.filter(member=handover, contact__external_userid__in=external_userids).values_list(
            "contact__external_userid", flat=True
        )
    )
    waiting = set(
        SimTransfer.objects.filter(external_userid__in=external_userids, status=SimTransfer.Status.WAITING).values_list(
            "external_userid", flat=True
        )
    )
    customers = []
    for ext in external_userids:
        if ext not in mine:
            customers.append({"external_userid": ext, "errcode": 84061})
        elif ext in waiting:
            customers.append({"external_userid": ext, "errcode": 40129})  # already being transferred
        else:
            SimTransfer.objects.create(
                handover_userid=handover_id, takeover_userid=takeover_id, external_userid=ext, resigned=resigned
            )
            customers.append({"external_userid": ext, "errcode": 0})
    return _ok(customer=customers)


def transfer_customer(request: HttpRequest, body: dict) -> dict:
    return _transfer(body, resigned=False)


def resigned_transfer_customer(request: HttpRequest, body: dict) -> dict:
    return _transfer(body, resigned=True)


def _transfer_result(body: dict, *, resigned: bool) -> dict:
    services.transfers_settle_due()
    rows = list(
        SimTransfer.objects.filter(
            handover_userid=body.get("handover_userid", ""),
            takeover_userid=body.get("takeover_userid", ""),
            resigned=resigned,
        ).order_by("id")
    )
    page, nxt = _cursor_page(rows, body.get("cursor", ""), MAX_LIMIT)
    return _ok(
        customer=[
            {"external_userid": r.external_userid, "status": r.status, "takeover_time": r.takeover_time} for r in page
        ],
        next_cursor=nxt,
    )


def transfer_result(request: HttpRequest, body: dict) -> dict:
    return _transfer_result(body, resigned=False)


def resigned_transfer_result(request: HttpRequest, body: dict) -> dict:
    return _transfer_result(body, resigned=True)


def unassigned_list(request: HttpRequest, body: dict) -> dict:
    limit = _limit(body | {"limit": body.get("page_size") or 1000}, maximum=1000)
    busy = set(
        SimTransfer.objects.filter(status__in=[SimTransfer.Status.WAITING, SimTransfer.Status.SUCCESS]).values_list(
            "handover_userid", "external_userid"
        )
    )
    follows = (
        SimFollowUser.objects.filter(member__status=SimMember.Status.DEPARTED)
        .select_related("member", "contact")
        .order_by("id")
    )
    rows = [f for f in follows if (f.member.userid, f.contact.external_userid) not in busy]
    page, nxt = _cursor_page(rows, body.get("cursor", ""), limit)
    return _ok(
        info=[
            {
                "handover_userid": f.member.userid,
                "external_userid": f.contact.external_userid,
                "dimission_time": _ts(f.member.departed_at or f.member.created_at),
            }
            for f in page
        ],
        is_last=not nxt,
        next_cursor=nxt,
    )


# --- media ------------------------------------------------------------------------------------


def media_upload(request: HttpRequest, body: dict) -> dict:
    kind = request.GET.get("type", "")
    if kind not in ("image", "voice", "video", "file"):
        raise SimError(40004, "invalid media type")
    upload = request.FILES.get("media")
    if upload is None:
        raise SimError(41005, "media data missing")
    if upload.size <= 5:
        raise SimError(40005, "invalid file size")
    media = SimMedia.objects.create(
        media_id=services.new_id(f"3{kind[0]}", 24), type=kind, filename=upload.name[:200], size=upload.size
    )
    return _ok(type=kind, media_id=media.media_id, created_at=str(_ts(media.created_at)))


# --- dispatch ---------------------------------------------------------------------------------

Handler = Callable[[HttpRequest, dict], dict]
APP, CONTACT, ANY, NONE = "app", "contact", "any", "none"

ROUTES: dict[str, tuple[Handler, str]] = {
    "gettoken": (gettoken, NONE),
    "get_jsapi_ticket": (get_jsapi_ticket, APP),
    "ticket/get": (ticket_get, APP),
    "auth/getuserinfo": (auth_getuserinfo, APP),
    "user/getuserinfo": (user_getuserinfo, APP),
    "user/get": (user_get, ANY),
    "user/list": (user_list, ANY),
    "externalcontact/list": (ec_list, CONTACT),
    "externalcontact/get": (ec_get, CONTACT),
    "externalcontact/batch/get_by_user": (ec_batch_get_by_user, CONTACT),
    "externalcontact/get_follow_user_list": (ec_follow_user_list, CONTACT),
    "externalcontact/remark": (ec_remark, CONTACT),
    "externalcontact/get_corp_tag_list": (tag_list, CONTACT),
    "externalcontact/add_corp_tag": (tag_add, CONTACT),
    "externalcontact/edit_corp_tag": (tag_edit, CONTACT),
    "externalcontact/del_corp_tag": (tag_del, CONTACT),
    "externalcontact/mark_tag": (tag_mark, CONTACT),
    "externalcontact/add_contact_way": (way_add, CONTACT),
    "externalcontact/get_contact_way": (way_get, CONTACT),
    "externalcontact/update_contact_way": (way_update, CONTACT),
    "externalcontact/del_contact_way": (way_del, CONTACT),
    "externalcontact/send_welcome_msg": (welcome_send, CONTACT),
    "externalcontact/add_msg_template": (msg_template_add, CONTACT),
    "externalcontact/get_groupmsg_list_v2": (groupmsg_list_v2, CONTACT),
    "externalcontact/transfer_customer": (transfer_customer, CONTACT),
    "externalcontact/resigned/transfer_customer": (resigned_transfer_customer, CONTACT),
    "externalcontact/transfer_result": (transfer_result, CONTACT),
    "externalcontact/resigned/transfer_result": (resigned_transfer_result, CONTACT),
    "externalcontact/get_unassigned_list": (unassigned_list, CONTACT),
    "media/upload": (media_upload, APP),
    "message/send": (message_send, APP),
}


def _check_token(request: HttpRequest, needs: str) -> None:
    if needs == NONE:
        return
    value = request.GET.get("access_token", "")
    token = SimAccessToken.objects.filter(token=value).first() if value else None
    if token is None:
        raise SimError(40014, "invalid access_token")
    if token.expires_at <= timezone.now():
        raise SimError(42001, "access_token expired")
    if needs != ANY and token.kind != needs:
        raise SimError(48002, "api forbidden: this secret may not call this api")


@csrf_exempt
def api(request: HttpRequest, endpoint: str) -> JsonResponse:
    """Route /_wecom/cgi-bin/<endpoint> like WeCom: always HTTP 200 with errcode/errmsg."""
    endpoint = endpoint.strip("/")
    route = ROUTES.get(endpoint)
    try:
        if route is None:
            raise SimError(60001, f"api not found: {endpoint}")  # unknown path, still JSON like WeCom
        handler, needs = route
        injected = faults.fault_answer(endpoint=endpoint)  # dev-only drill switch (WECOM_SIM_FAULTS_FILE)
        if injected is not None:
            return injected
        fault = services.fault_take(path=endpoint)
        if fault is not None:
            raise SimError(fault.errcode, fault.errmsg)
        _check_token(request, needs)
        body: dict = {}
        if request.method == "POST" and request.content_type != "multipart/form-data":
            try:
                body = json.loads(request.body or b"{}")
            except (ValueError, UnicodeDecodeError) as exc:
                raise SimError(47001, "data format error") from exc
            if not isinstance(body, dict):
                raise SimError(47001, "data format error")
        result = handler(request, body)
    except SimError as exc:
        result = {"errcode": exc.errcode, "errmsg": exc.errmsg}
    return JsonResponse(result, json_dumps_params={"ensure_ascii": False})


# --- OAuth page -------------------------------------------------------------------------------


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def oauth_authorize(request: HttpRequest) -> HttpResponse:
    """Stand-in for open.weixin.qq.com/connect/oauth2/authorize: pick a member, get a code."""
    appid = request.GET.get("appid", "")
    redirect_uri = request.GET.get("redirect_uri", "")
    if appid != settings.WECOM_CORP_ID:
        return HttpResponse(_("appid 与企业 ID 不一致"), status=400, content_type="text/plain; charset=utf-8")
    # Like WeCom's trusted domain: only back to our own site, never an open redirect.
    own_hosts = {request.get_host(), urlsplit(settings.SITE_URL).netloc}
    if not redirect_uri or not url_has_allowed_host_and_scheme(redirect_uri, allowed_hosts=own_hosts):
        return HttpResponse(_("redirect_uri 无效"), status=400, content_type="text/plain; charset=utf-8")
    userid = request.GET.get("sim_userid") or request.COOKIES.get("sim_userid", "")
    member = SimMember.objects.filter(userid=userid, status=SimMember.Status.ACTIVE).first() if userid else None
    if member is not None:
        code = services.oauth_code_issue(userid=member.userid)
        return redirect(_with_query(redirect_uri, code=code, state=request.GET.get("state", "")))
    members = SimMember.objects.filter(status=SimMember.Status.ACTIVE).order_by("userid")
    choices = [(m, _with_query(request.get_full_path(), sim_userid=m.userid)) for m in members]
    return render(request, "wecom/sim_authorize.html", {"choices": choices, "unknown_userid": userid})


def qr_code(request: HttpRequest, config_id: str) -> HttpResponse:
    """The code's QR image, like WeCom's qr_code URL: a real QR that opens the simulator's scan page."""
    import io

    import segno

    if not SimContactWay.objects.filter(config_id=config_id).exists():
        return HttpResponse(status=404)
    url = settings.SITE_URL.rstrip("/") + f"/dev/scan/{config_id}/"
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=8, border=2)
    return HttpResponse(out.getvalue(), content_type="image/png")
