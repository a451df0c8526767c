"""Simulated external contacts: list, get, batch get by member, follow users, remark."""

from django.db.models import Prefetch
from django.http import HttpRequest

from scrm.wecom.simulator.endpoints.common import MAX_LIMIT, SimError, cursor_page, follow_of, limit_of, member_of, ok
from scrm.wecom.simulator.models import SimExternalContact, SimFollowUser, SimMember, SimTag


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


def ec_list(request: HttpRequest, body: dict) -> dict:
    member = member_of(request.GET.get("userid", ""))
    ids = list(member.follows.order_by("id").values_list("contact__external_userid", flat=True))
    return ok(external_userid=ids)


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
    return ok(
        external_contact=_contact_json(contact),
        follow_user=[_follow_json(f, tags, detailed_tags=True) for f in contact.follows.all()],
        next_cursor="",
    )


def ec_batch_get_by_user(request: HttpRequest, body: dict) -> dict:
    userids = body.get("userid_list") or ([body["userid"]] if body.get("userid") else [])
    if not userids or len(userids) > MAX_LIMIT:
        raise SimError(40058, "userid_list must hold 1..100 userids")
    limit = limit_of(body)
    follows = list(
        SimFollowUser.objects.filter(member__userid__in=userids).select_related("member", "contact").order_by("id")
    )
    page, nxt = cursor_page(follows, body.get("cursor", ""), limit)
    tags = _live_tags()
    return ok(
        external_contact_list=[
            {"external_contact": _contact_json(f.contact), "follow_info": _follow_json(f, tags, detailed_tags=False)}
            for f in page
        ],
        next_cursor=nxt,
    )


def ec_follow_user_list(request: HttpRequest, body: dict) -> dict:
    ids = SimMember.objects.filter(status=SimMember.Status.ACTIVE).order_by("userid").values_list("userid", flat=True)
    return ok(follow_user=list(ids))


def ec_remark(request: HttpRequest, body: dict) -> dict:
    follow = follow_of(body.get("userid", ""), body.get("external_userid", ""))
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
    return ok()
