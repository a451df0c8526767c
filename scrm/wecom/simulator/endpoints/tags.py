"""Simulated corp tags: list, add, edit, delete, and marking them on a contact."""

import time

from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest

from scrm.wecom.simulator import services
from scrm.wecom.simulator.endpoints.common import SimError, follow_of, member_of, ok
from scrm.wecom.simulator.models import SimTag, SimTagGroup


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
    return ok(tag_group=answer)


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
    return ok(tag_group=_group_json(group, created))


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
    return ok()


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
    return ok()


def tag_mark(request: HttpRequest, body: dict) -> dict:
    add = list(body.get("add_tag") or [])
    remove = list(body.get("remove_tag") or [])
    if not add and not remove:
        raise SimError(40058, "add_tag or remove_tag required")
    member_of(body.get("userid", ""))
    follow = follow_of(body.get("userid", ""), body.get("external_userid", ""))
    live = set(SimTag.objects.filter(tag_id__in=add + remove, deleted=False).values_list("tag_id", flat=True))
    if set(add + remove) - live:
        raise SimError(40068, "invalid tagid")
    tags = [t for t in follow.tags if t not in remove]
    tags += [t for t in add if t not in tags]
    follow.tags = tags
    follow.save(update_fields=["tags"])
    return ok()
