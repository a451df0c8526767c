"""Simulated contact ways (渠道活码): add, get, update, delete."""

from django.http import HttpRequest

from scrm.wecom.simulator import services
from scrm.wecom.simulator.endpoints.common import SimError, ok
from scrm.wecom.simulator.models import SimContactWay, SimMember


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
    return ok(config_id=way.config_id, qr_code=way.qr_code)


def _way(body: dict) -> SimContactWay:
    way = SimContactWay.objects.filter(config_id=body.get("config_id") or "").first()
    if way is None:
        raise SimError(41044, "invalid config_id")
    return way


def way_get(request: HttpRequest, body: dict) -> dict:
    way = _way(body)
    return ok(
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
    return ok()


def way_del(request: HttpRequest, body: dict) -> dict:
    _way(body).delete()
    return ok()
