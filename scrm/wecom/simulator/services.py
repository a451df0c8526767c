"""Controls of the WeCom simulator, used by tests, dev pages and the seed command."""

import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Prefetch
from django.utils import timezone

from scrm.customers.events import EventKind
from scrm.customers.models import CustomerTag, Event, FollowRelation, IdentityKind, TagGroup
from scrm.org.models import Staff
from scrm.wecom.simulator.callbacks import callback_post, contact_event
from scrm.wecom.simulator.models import (
    MEDIA_TTL,
    SimAccessToken,
    SimChatMessage,
    SimContactWay,
    SimExternalContact,
    SimFault,
    SimFollowUser,
    SimMedia,
    SimMember,
    SimOAuthCode,
    SimTag,
    SimTagGroup,
    SimTransfer,
    SimWelcomeCode,
)


def new_id(prefix: str, nbytes: int = 12) -> str:
    return f"{prefix}{secrets.token_hex(nbytes)}"


# --- fault injection and expiry -------------------------------------------------------------


def fault_inject(*, path: str, errcode: int, times: int = 1, errmsg: str = "") -> SimFault:
    """Answer the next `times` calls of `path` (e.g. "externalcontact/mark_tag") with `errcode`."""
    return SimFault.objects.create(
        path=path.strip("/"), errcode=errcode, errmsg=errmsg or f"simulated error {errcode}", remaining=times
    )


def fault_take(*, path: str) -> SimFault | None:
    """Consume one pending fault for `path`, if any."""
    with transaction.atomic():
        fault = SimFault.objects.select_for_update().filter(path=path, remaining__gt=0).order_by("id").first()
        if fault is None:
            return None
        SimFault.objects.filter(pk=fault.pk).update(remaining=F("remaining") - 1)
        return fault


def tokens_expire_all() -> int:
    """Make every issued access_token expired (the next call answers 42001)."""
    return SimAccessToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))


def media_expire(*, media_id: str) -> None:
    SimMedia.objects.filter(media_id=media_id).update(created_at=timezone.now() - MEDIA_TTL - dt.timedelta(seconds=1))


# --- people -----------------------------------------------------------------------------------


def member_add(
    *,
    userid: str,
    name: str = "",
    status: str = SimMember.Status.ACTIVE,
    department: list[int] | None = None,
    avatar: str = "",
) -> SimMember:
    member, _ = SimMember.objects.update_or_create(
        userid=userid,
        defaults={
            "name": name or userid,
            "status": status,
            "department": department or [1],
            "avatar": avatar,
            "departed_at": timezone.now() if status == SimMember.Status.DEPARTED else None,
        },
    )
    return member


def contact_add(
    *, external_userid: str, name: str = "", avatar: str = "", type: int = 1, gender: int = 0, unionid: str = ""
) -> SimExternalContact:
    contact, _ = SimExternalContact.objects.update_or_create(
        external_userid=external_userid,
        defaults={
            "name": name or external_userid,
            "avatar": avatar,
            "type": type,
            "gender": gender,
            "unionid": unionid,
        },
    )
    return contact


def follow_add(
    *,
    userid: str,
    external_userid: str,
    remark: str = "",
    description: str = "",
    tags: list[str] | None = None,
    state: str = "",
    add_way: int = 1,
    createtime: int | None = None,
    remark_mobiles: list[str] | None = None,
) -> SimFollowUser:
    """Make the customer a contact of the member (creating either if missing)."""
    member = SimMember.objects.filter(userid=userid).first() or member_add(userid=userid)
    contact = SimExternalContact.objects.filter(external_userid=external_userid).first() or contact_add(
        external_userid=external_userid
    )
    follow, _ = SimFollowUser.objects.update_or_create(
        member=member,
        contact=contact,
        defaults={
            "remark": remark,
            "description": description,
            "tags": list(tags or []),
            "state": state,
            "add_way": add_way,
            "createtime": createtime or int(time.time()),
            "remark_mobiles": list(remark_mobiles or []),
            "oper_userid": userid,
        },
    )
    return follow


def member_depart(*, userid: str) -> None:
    SimMember.objects.filter(userid=userid).update(status=SimMember.Status.DEPARTED, departed_at=timezone.now())


def tag_group_add(*, name: str, tags: list[str], group_id: str = "", order: int = 0) -> SimTagGroup:
    now = int(time.time())
    group, _ = SimTagGroup.objects.get_or_create(
        group_id=group_id or new_id("et"), defaults={"name": name, "order": order, "create_time": now}
    )
    for tag_name in tags:
        if not group.tags.filter(name=tag_name, deleted=False).exists():
            SimTag.objects.create(group=group, tag_id=new_id("et"), name=tag_name, create_time=now)
    return group


# --- one-time codes ---------------------------------------------------------------------------


def oauth_code_issue(*, userid: str = "", openid: str = "") -> str:
    """A one-use OAuth code for a member (userid) or someone outside the corp (openid)."""
    return SimOAuthCode.objects.create(code=new_id("", 16), userid=userid, openid=openid).code


def welcome_code_issue(*, userid: str, external_userid: str) -> str:
    """The WelcomeCode an add_external_contact event carries (valid 20 s, one use)."""
    return SimWelcomeCode.objects.create(code=new_id("wc", 16), userid=userid, external_userid=external_userid).code


# --- contact ways (渠道活码) -------------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    userid: str
    external_userid: str
    welcome_code: str
    event: dict


class ScanRefused(ValueError):
    """The code does not exist (any more) or has nobody to add."""


def contact_way_scan(
    *, config_id: str, external_userid: str = "", name: str = "", send: bool = True, welcome: bool = True
) -> Scan:
    """A customer scans a 「联系我」 code: WeCom picks the member (a multi-person code in turn), makes
    them friends, and tells the product with add_external_contact carrying State and WelcomeCode.

    A new customer is made when `external_userid` is empty. With `send` the signed callback is posted
    to the product (settings.SITE_URL) after the friendship is committed; `welcome=False` leaves
    WelcomeCode out, as WeCom does when a welcome is configured in its own admin.
    """
    with transaction.atomic():
        way = SimContactWay.objects.select_for_update().filter(config_id=config_id).first()
        if way is None or not way.user:
            raise ScanRefused(config_id)
        userid = way.user[way.scans % len(way.user)]
        SimContactWay.objects.filter(pk=way.pk).update(scans=F("scans") + 1)
        if external_userid:
            contact = SimExternalContact.objects.filter(external_userid=external_userid).first()
            if contact is None:
                raise ScanRefused(external_userid)
        else:
            contact = contact_add(external_userid=new_id("wm", 14), name=name or "新客户")
        follow_add(userid=userid, external_userid=contact.external_userid, state=way.state, add_way=1)
        code = welcome_code_issue(userid=userid, external_userid=contact.external_userid) if welcome else ""
    extra = {"State": way.state, **({"WelcomeCode": code} if code else {})}
    event = contact_event("add_external_contact", userid=userid, external_userid=contact.external_userid, **extra)
    if send:
        callback_post(event, timeout=30)
    return Scan(userid=userid, external_userid=contact.external_userid, welcome_code=code, event=event)


# --- transfers --------------------------------------------------------------------------------


def transfer_settle(*, external_userid: str, accepted: bool = True, handover_userid: str = "") -> int:
    """Finish waiting transfers of a customer: accepted moves the friendship, refused keeps it."""
    transfers = SimTransfer.objects.filter(external_userid=external_userid, status=SimTransfer.Status.WAITING)
    if handover_userid:
        transfers = transfers.filter(handover_userid=handover_userid)
    settled = 0
    with transaction.atomic():
        for transfer in transfers.select_for_update():
            if accepted:
                _move_follow(transfer)
                transfer.status = SimTransfer.Status.SUCCESS
                transfer.takeover_time = int(time.time())
            else:
                transfer.status = SimTransfer.Status.REFUSED
            transfer.save(update_fields=["status", "takeover_time"])
            settled += 1
    return settled


def transfers_settle_due(*, now: dt.datetime | None = None) -> int:
    """WeCom completes a transfer once the customer's window passes without a refusal (24 hours);
    the simulator does so after settings.WECOM_SIM_TRANSFER_SECONDS, so a demo hand-over finishes."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=settings.WECOM_SIM_TRANSFER_SECONDS)
    due = SimTransfer.objects.filter(status=SimTransfer.Status.WAITING, created_at__lte=cutoff)
    return sum(transfer_settle(external_userid=ext) for ext in set(due.values_list("external_userid", flat=True)))


def transfer_refuse(*, external_userid: str) -> SimTransfer | None:
    """The customer refuses the transfer: it fails, the friendship stays, and WeCom tells the
    product with a transfer_fail callback (UserID is the takeover member)."""
    waiting = SimTransfer.objects.filter(external_userid=external_userid, status=SimTransfer.Status.WAITING).first()
    if waiting is None:
        return None
    transfer_settle(external_userid=external_userid, accepted=False)
    event = contact_event(
        "transfer_fail", userid=waiting.takeover_userid, external_userid=external_userid, FailReason="customer_refused"
    )
    transaction.on_commit(lambda: callback_post(event))
    return waiting


def _move_follow(transfer: SimTransfer) -> None:
    follow = SimFollowUser.objects.filter(
        member__userid=transfer.handover_userid, contact__external_userid=transfer.external_userid
    ).first()
    if follow is None:
        return
    takeover = SimMember.objects.filter(userid=transfer.takeover_userid).first() or member_add(
        userid=transfer.takeover_userid
    )
    if SimFollowUser.objects.filter(member=takeover, contact=follow.contact).exists():
        follow.delete()
        return
    follow.member = takeover
    follow.oper_userid = transfer.takeover_userid
    follow.save(update_fields=["member", "oper_userid"])


# --- chat -------------------------------------------------------------------------------------


def chat_message_add(
    *,
    userid: str,
    external_userid: str,
    direction: str,
    msgtype: str = "text",
    payload: dict | None = None,
    created_at: dt.datetime | None = None,
) -> SimChatMessage:
    return SimChatMessage.objects.create(
        userid=userid,
        external_userid=external_userid,
        direction=direction,
        msgtype=msgtype,
        payload=payload or {},
        created_at=created_at or timezone.now(),
    )


logger = logging.getLogger(__name__)

# WeCom calls back about new archived messages at most every 15 seconds.
ARCHIVE_NOTIFY_INTERVAL = 15


def archive_notify() -> None:
    """After a chat message: WeCom's msgaudit_notify callback, throttled as WeCom does; the product's
    minute pull picks up what a skipped notification would have announced."""
    if not cache.add("wecom_sim:msgaudit_notify", "1", timeout=ARCHIVE_NOTIFY_INTERVAL):
        return
    event = {
        "ToUserName": settings.WECOM_CORP_ID,
        "FromUserName": "sys",
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "AgentID": 2000004,
        "Event": "msgaudit_notify",
    }

    def post() -> None:
        try:
            callback_post(event)
        except requests.RequestException as exc:  # the product is down: WeCom would retry, the pull catches up
            logger.warning("msgaudit_notify not delivered: %s", exc)

    transaction.on_commit(post)


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
    chat_events: dict[int, list] = {}
    events = Event.objects.filter(kind=EventKind.CHAT_MESSAGE, customer_id__in={r.customer_id for r in quiet})
    for event in events.order_by("customer_id", "-occurred_at", "-id").iterator(chunk_size=2000):
        bucket = chat_events.setdefault(event.customer_id, [])
        if len(bucket) < CHAT_SEED_LIMIT:
            bucket.append(event)
    new_messages = []
    for relation in quiet:
        for event in reversed(chat_events.get(relation.customer_id, [])):
            new_messages.append(_chat_from_event(userids[relation.staff_id], relation.external_userid, event))
    SimChatMessage.objects.bulk_create(new_messages, batch_size=500)
    stats.chat_messages = len(new_messages)
    return stats


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
