"""Mirror our staff, customers, follow relations and WeCom tags into the simulator (`wecom_sim_seed`)."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch

from scrm.customers.events import EventKind
from scrm.customers.models import CustomerTag, Event, FollowRelation, IdentityKind, TagGroup
from scrm.org.models import Staff
from scrm.wecom.models import ChatArchiveCursor
from scrm.wecom.simulator.models import (
    SimChatMessage,
    SimExternalContact,
    SimFollowUser,
    SimMember,
    SimTag,
    SimTagGroup,
)


@dataclass
class SeedStats:
    members: int = 0
    contacts: int = 0
    follows: int = 0
    tag_groups: int = 0
    tags: int = 0
    chat_messages: int = 0


class _Mirror:
    """Rows of one simulator table keyed in memory: new ones are bulk-created, changed ones saved.

    Reseeding thousands of relations then costs a few queries, and an unchanged row is never written.
    """

    def __init__(self, model, rows: dict) -> None:
        self.model = model
        self.rows = rows
        self.new: list = []
        self.changed = 0

    def put(self, key, values: dict):
        row = self.rows.get(key)
        if row is None:
            row = self.model(**values)
            self.rows[key] = row
            self.new.append(row)
            return row
        fields = [name for name, value in values.items() if getattr(row, name) != value]
        if fields:
            for name in fields:
                setattr(row, name, values[name])
            if row.pk is not None:
                row.save(update_fields=fields)
                self.changed += 1
        return row

    def flush(self) -> int:
        # Postgres and SQLite both return primary keys from bulk_create.
        self.model.objects.bulk_create(self.new, batch_size=500)
        count = len(self.new) + self.changed
        self.new, self.changed = [], 0
        return count


CHAT_SEED_LIMIT = 20


@transaction.atomic
def sim_seed_from_domain() -> SeedStats:
    """Mirror our staff, customers, follow relations and WeCom tags into the simulator.

    Idempotent: a second run changes nothing. Chat messages are seeded only for a
    conversation that has none yet, from the customer's chat_message events.
    """
    stats = SeedStats()

    groups = _Mirror(SimTagGroup, {g.group_id: g for g in SimTagGroup.objects.all()})
    tags = _Mirror(SimTag, {t.tag_id: t for t in SimTag.objects.all()})
    domain_groups = list(TagGroup.objects.filter(wecom_group_id__isnull=False).prefetch_related("tags"))
    for group in domain_groups:
        groups.put(
            group.wecom_group_id,
            {
                "group_id": group.wecom_group_id,
                "name": group.name,
                "order": max(group.order, 0),
                "deleted": group.deleted,
            },
        )
    stats.tag_groups = groups.flush()
    for group in domain_groups:
        sim_group = groups.rows[group.wecom_group_id]
        for tag in group.tags.all():
            if tag.wecom_tag_id:
                tags.put(
                    tag.wecom_tag_id,
                    {
                        "tag_id": tag.wecom_tag_id,
                        "group_id": sim_group.pk,
                        "name": tag.name,
                        "order": max(tag.order, 0),
                        "deleted": tag.deleted,
                    },
                )
    stats.tags = tags.flush()

    members = _Mirror(SimMember, {m.userid: m for m in SimMember.objects.all()})
    userids: dict[int, str] = {}
    for staff in Staff.objects.all():
        userids[staff.pk] = staff.userid
        members.put(
            staff.userid,
            {
                "userid": staff.userid,
                "name": staff.name,
                "avatar": staff.avatar,
                "status": SimMember.Status.ACTIVE if staff.is_active else SimMember.Status.DEPARTED,
                "department": [1],
                "departed_at": None if staff.is_active else staff.departed_at,
            },
        )
    stats.members = members.flush()

    relations = list(
        FollowRelation.objects.filter(ended_at__isnull=True)
        .select_related("customer")
        .prefetch_related(
            "customer__identities",
            Prefetch(
                "customer__customer_tags",
                queryset=CustomerTag.objects.filter(tag__wecom_tag_id__isnull=False).select_related("tag"),
            ),
        )
        .order_by("id")
    )
    contacts = _Mirror(SimExternalContact, {c.external_userid: c for c in SimExternalContact.objects.all()})
    for relation in relations:
        customer = relation.customer
        unionid = next((i.value for i in customer.identities.all() if i.kind == IdentityKind.UNIONID), "")
        contacts.put(
            relation.external_userid,
            {
                "external_userid": relation.external_userid,
                "name": customer.name or relation.external_userid,
                "avatar": customer.avatar,
                "type": 1,
                "gender": customer.gender,
                "unionid": unionid,
            },
        )
    stats.contacts = contacts.flush()

    follows = _Mirror(SimFollowUser, {(f.member_id, f.contact_id): f for f in SimFollowUser.objects.all()})
    for relation in relations:
        member = members.rows[userids[relation.staff_id]]
        contact = contacts.rows[relation.external_userid]
        follows.put(
            (member.pk, contact.pk),
            {
                "member_id": member.pk,
                "contact_id": contact.pk,
                "remark": relation.remark,
                "description": relation.description,
                "createtime": int(relation.added_at.timestamp()),
                "tags": sorted(ct.tag.wecom_tag_id for ct in relation.customer.customer_tags.all()),
                "remark_mobiles": list(relation.remark_mobiles or []),
                "add_way": relation.add_way,
                "state": relation.state,
                "oper_userid": member.userid,
            },
        )
    stats.follows = follows.flush()

    have_chat = set(SimChatMessage.objects.values_list("userid", "external_userid").distinct())
    quiet = [r for r in relations if (userids[r.staff_id], r.external_userid) not in have_chat]
    # Each conversation gets the messages of that guide only (a previous guide's chat stays theirs).
    chat_events: dict[tuple[int, int], list] = {}
    events = Event.objects.filter(kind=EventKind.CHAT_MESSAGE, customer_id__in={r.customer_id for r in quiet})
    for event in events.order_by("customer_id", "-occurred_at", "-id").iterator(chunk_size=2000):
        bucket = chat_events.setdefault((event.customer_id, event.staff_id), [])
        if len(bucket) < CHAT_SEED_LIMIT:
            bucket.append(event)
    new_messages = []
    for relation in quiet:
        for event in reversed(chat_events.get((relation.customer_id, relation.staff_id), [])):
            new_messages.append(_chat_from_event(userids[relation.staff_id], relation.external_userid, event))
    SimChatMessage.objects.bulk_create(new_messages, batch_size=500)
    stats.chat_messages = len(new_messages)
    _archive_read_up_to_now()
    return stats


def _archive_read_up_to_now() -> None:
    """The mirrored messages came from the timeline, so the product's chat archive has them already:
    its cursor moves past them (else the first pull would record every one a second time)."""
    last = SimChatMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
    if last is not None:
        cursor, _created = ChatArchiveCursor.objects.get_or_create(pk=1)
        if cursor.seq < last:
            ChatArchiveCursor.objects.filter(pk=1).update(seq=last)


def _chat_from_event(userid: str, external_userid: str, event) -> SimChatMessage:
    payload = event.payload or {}
    direction = payload.get("direction")
    if direction not in (SimChatMessage.Direction.IN, SimChatMessage.Direction.OUT):
        direction = SimChatMessage.Direction.OUT if event.staff_id else SimChatMessage.Direction.IN
    msgtype = payload.get("msgtype") or "text"
    body = {k: v for k, v in payload.items() if k not in {"schema", "direction", "msgtype"}}
    if msgtype == "text" and "content" not in body:
        body["content"] = payload.get("text") or event.title
    return SimChatMessage(
        userid=userid,
        external_userid=external_userid,
        direction=direction,
        msgtype=msgtype,
        payload=body,
        created_at=event.occurred_at,
    )
