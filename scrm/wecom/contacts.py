"""WeCom data to local rows: members, corp tags and member ↔ contact relations (callbacks and sync)."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from scrm.customers.events import Channel
from scrm.customers.identity import customer_resolve
from scrm.customers.models import Customer, CustomerTag, FollowRelation, Gender, IdentityKind, Tag, TagGroup, TagSource
from scrm.customers.services import phone_mask
from scrm.org.models import Staff


def wecom_time(value) -> dt.datetime:
    """A WeCom unix timestamp as an aware datetime; missing or invalid means now."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return timezone.now()
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) if seconds > 0 else timezone.now()


# WeCom member status: 1 active, 2 disabled, 4 not yet activated, 5 left the corp.
_INACTIVE_STATUSES = {2, 5}


def staff_upsert_from_wecom(*, user: dict) -> tuple[Staff, bool]:
    """Create or refresh a Staff from a WeCom member dict; returns (staff, changed)."""
    userid = user["userid"]
    active = int(user.get("status") or 1) not in _INACTIVE_STATUSES
    values = {
        "name": (user.get("name") or userid)[:64],
        "avatar": (user.get("avatar") or "")[:500],
        "mobile": (user.get("mobile") or "")[:32],
        "is_active": active,
    }
    staff = Staff.objects.filter(userid=userid).first()
    if staff is None:
        staff = Staff.objects.create(userid=userid, departed_at=None if active else timezone.now(), **values)
        return staff, True
    # A field WeCom left out (privacy settings hide mobile) keeps its local value.
    changed = [k for k, v in values.items() if (v or k == "is_active") and getattr(staff, k) != v]
    for name in changed:
        setattr(staff, name, values[name])
    if "is_active" in changed:
        staff.departed_at = None if active else timezone.now()
        changed.append("departed_at")
    if changed:
        staff.save(update_fields=[*changed, "updated_at"])
    return staff, bool(changed)


def corp_tags_apply(*, groups: list[dict]) -> int:
    """Upsert TagGroup/Tag by WeCom ids; WeCom tags no longer listed are flagged deleted.

    Returns how many rows changed, so a second run with the same data reports 0.
    """
    changed = 0
    seen_groups, seen_tags = set(), set()
    with transaction.atomic():
        groups_by_id = {g.wecom_group_id: g for g in TagGroup.objects.filter(wecom_group_id__isnull=False)}
        tags_by_id = {t.wecom_tag_id: t for t in Tag.objects.filter(wecom_tag_id__isnull=False)}
        for data in groups:
            gid = str(data.get("group_id") or "")
            if not gid:
                continue
            seen_groups.add(gid)
            values = {
                "name": (data.get("group_name") or "")[:50],
                "order": int(data.get("order") or 0),
                "deleted": bool(data.get("deleted")),
            }
            group = groups_by_id.get(gid)
            if group is None:
                group = TagGroup.objects.create(wecom_group_id=gid, source=TagSource.WECOM, **values)
                changed += 1
            elif _assign(group, values):
                group.save()
                changed += 1
            for tag_data in data.get("tag") or []:
                tid = str(tag_data.get("id") or "")
                if not tid:
                    continue
                seen_tags.add(tid)
                values = {
                    "group": group,
                    "name": (tag_data.get("name") or "")[:50],
                    "order": int(tag_data.get("order") or 0),
                    "deleted": bool(tag_data.get("deleted")),
                }
                tag = tags_by_id.get(tid)
                if tag is None:
                    _free_tag_name(group, values["name"])
                    Tag.objects.create(wecom_tag_id=tid, source=TagSource.WECOM, **values)
                    changed += 1
                elif _assign(tag, values):
                    _free_tag_name(group, values["name"], exclude=tag.pk)
                    tag.save()
                    changed += 1
        changed += (
            TagGroup.objects.filter(wecom_group_id__isnull=False, deleted=False)
            .exclude(wecom_group_id__in=seen_groups)
            .update(deleted=True)
        )
        changed += (
            Tag.objects.filter(wecom_tag_id__isnull=False, deleted=False).exclude(wecom_tag_id__in=seen_tags)
        ).update(deleted=True)
    return changed


def _assign(obj, values: dict) -> bool:
    dirty = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            dirty = True
    return dirty


def _free_tag_name(group: TagGroup, name: str, exclude: int | None = None) -> None:
    # (group, name) is unique; a deleted tag of the same name gives way to the live one.
    clash = Tag.objects.filter(group=group, name=name).exclude(pk=exclude)
    for tag in clash:
        tag.name = f"{name[:40]}#{tag.pk}"
        tag.save(update_fields=["name"])


def follow_tag_ids(follow: dict) -> list[str]:
    """Corp tag ids of one follow_user (externalcontact/get) or follow_info (batch/get_by_user)."""
    if "tag_id" in follow:
        return [str(t) for t in follow.get("tag_id") or []]
    # type 1 = corp tag; personal (2) and rule (3) tags have no corp id we can map.
    return [str(t["tag_id"]) for t in follow.get("tags") or [] if t.get("tag_id") and int(t.get("type") or 1) == 1]


def unknown_tag_ids(ids: list[str]) -> set[str]:
    known = set(Tag.objects.filter(wecom_tag_id__in=ids).values_list("wecom_tag_id", flat=True))
    return set(ids) - known


@dataclass
class RelationResult:
    relation: FollowRelation
    customer: Customer
    created: bool
    changes: dict = field(default_factory=dict)
    tags_added: list[int] = field(default_factory=list)
    tags_removed: list[int] = field(default_factory=list)


def contact_upsert(*, staff: Staff, external_contact: dict, follow: dict, state: str = "") -> RelationResult:
    """Customer, identities, active FollowRelation and WeCom tags for one member ↔ contact pair.

    Writes only what differs, so applying the same data twice changes nothing.
    """
    external_userid = external_contact["external_userid"]
    name = (external_contact.get("name") or "")[:100]
    identities = [(IdentityKind.WECOM, external_userid, name[:64])]
    if external_contact.get("unionid"):
        identities.append((IdentityKind.UNIONID, external_contact["unionid"], ""))
    gender = int(external_contact.get("gender") or 0)
    customer = customer_resolve(
        identities=identities,
        defaults={
            "name": name,
            "avatar": (external_contact.get("avatar") or "")[:500],
            "gender": gender if gender in Gender.values else Gender.UNKNOWN,
            "store": staff.store,
            "source": Channel.WECOM,
        },
    )
    values = {
        "remark": (follow.get("remark") or "")[:100],
        "description": (follow.get("description") or "")[:255],
        # The numbers a guide noted for the customer: kept masked, like every phone here.
        "remark_mobiles": [phone_mask(str(m)) for m in follow.get("remark_mobiles") or [] if m],
        "add_way": int(follow.get("add_way") or 0),
        "state": (follow.get("state") or state or "")[:64],
    }
    relation = (
        FollowRelation.objects.select_for_update()
        .filter(staff=staff, external_userid=external_userid, ended_at__isnull=True)
        .first()
    )
    changes = {}
    if relation is None:
        relation = FollowRelation.objects.create(
            staff=staff,
            customer=customer,
            external_userid=external_userid,
            added_at=wecom_time(follow.get("createtime")),
            **values,
        )
        created = True
    else:
        created = False
        if relation.customer_id != customer.pk:
            values["customer_id"] = customer.pk
        for name_, value in values.items():
            if getattr(relation, name_) != value:
                changes[name_] = [getattr(relation, name_), value]
                setattr(relation, name_, value)
        if changes:
            relation.save(update_fields=[*changes, "updated_at"])
        changes.pop("customer_id", None)
    added, removed = _customer_tags_apply(customer=customer, staff=staff, wecom_tag_ids=follow_tag_ids(follow))
    return RelationResult(relation, customer, created, changes, added, removed)


def _customer_tags_apply(*, customer: Customer, staff: Staff, wecom_tag_ids: list[str]) -> tuple[list, list]:
    """The member's WeCom tags on the customer. Only rows this member got from WeCom are removed:
    a local edit still waiting in the outbox must not be undone by an unrelated callback."""
    tag_ids = set(Tag.objects.filter(wecom_tag_id__in=wecom_tag_ids).values_list("pk", flat=True))
    have = set(CustomerTag.objects.filter(customer=customer).values_list("tag_id", flat=True))
    added = sorted(tag_ids - have)
    CustomerTag.objects.bulk_create(
        [CustomerTag(customer=customer, tag_id=pk, added_by=staff, source=TagSource.WECOM) for pk in added],
        ignore_conflicts=True,
    )
    stale = CustomerTag.objects.filter(customer=customer, added_by=staff, source=TagSource.WECOM).exclude(
        tag_id__in=tag_ids
    )
    removed = sorted(stale.values_list("tag_id", flat=True))
    if removed:
        stale.delete()
    return added, removed


def relation_end(*, staff: Staff, external_userid: str, ended_by: str, ended_at: dt.datetime) -> FollowRelation | None:
    relation = (
        FollowRelation.objects.select_for_update()
        .filter(staff=staff, external_userid=external_userid, ended_at__isnull=True)
        .first()
    )
    if relation is not None:
        relation.ended_at = ended_at
        relation.ended_by = ended_by
        relation.save(update_fields=["ended_at", "ended_by", "updated_at"])
    return relation
