"""Writes that involve WeCom. Anything that calls WeCom runs in Celery after commit.

Callbacks: `callback_accept` verifies, decrypts and stores a callback in CallbackInbox (the
view answers `success` right after); `inbox_process` applies one stored event. Fetching from
WeCom happens before the row is locked, so no transaction waits on the network.
"""

import datetime as dt
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, field

import xmltodict
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from wechatpy.crypto import _get_signature
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto

from scrm.customers.events import Channel, EventKind
from scrm.customers.identity import customer_resolve
from scrm.customers.models import (
    Customer,
    CustomerTag,
    FollowRelation,
    Gender,
    Identity,
    IdentityKind,
    Tag,
    TagGroup,
    TagSource,
)
from scrm.customers.services import customer_figures_refresh_later, event_record, phone_mask
from scrm.handover.services import handover_item_fail_from_callback
from scrm.livecodes.services import livecode_on_added, welcome_dispatch
from scrm.org.models import Staff
from scrm.wecom import api
from scrm.wecom.chat_archive import chat_archive_pull
from scrm.wecom.errors import WeComError
from scrm.wecom.models import CallbackInbox, CallbackNonce, TagOutbox

logger = logging.getLogger(__name__)

# --- tag outbox -------------------------------------------------------------------------------

TAG_PUSH_MAX_ATTEMPTS = 5


def tag_push_for_local_edit(*, customer: Customer, staff: Staff, tag: Tag, added: bool, **_signal) -> None:
    """Receiver of customers' customer_tag_changed: queue WeCom's mark_tag for a tag edit made here."""
    if not tag.wecom_tag_id:
        return  # A local-only tag has nothing to push.
    # mark_tag acts through a member who has the contact: this guide's relation, else any active one.
    relations = FollowRelation.objects.filter(customer=customer, ended_at__isnull=True).select_related("staff")
    relation = relations.filter(staff=staff).first() or relations.order_by("added_at", "id").first()
    if relation is None:
        return
    tag_outbox_enqueue(
        userid=relation.staff.userid,
        external_userid=relation.external_userid,
        add=[tag.pk] if added else [],
        remove=[] if added else [tag.pk],
    )


def tag_outbox_enqueue(*, userid: str, external_userid: str, add: list[int], remove: list[int]) -> TagOutbox:
    """Queue a mark_tag push for the guide's relation; call inside the local edit's transaction."""
    row = TagOutbox.objects.create(
        userid=userid, external_userid=external_userid, add_tag_ids=list(add), remove_tag_ids=list(remove)
    )
    transaction.on_commit(lambda: tag_outbox_dispatch(row.pk))
    return row


def tag_outbox_dispatch(row_id: int) -> None:
    # Imported late: tasks import services. If the broker is down the row stays pending
    # and the periodic sweep pushes it.
    from scrm.wecom import tasks

    try:
        tasks.push_tag_outbox.delay(row_id)
    except Exception:  # broker unreachable (or, when eager, an error already recorded on the row)
        logger.warning("tag outbox %s left for the sweep", row_id, exc_info=True)


def tag_outbox_push(*, row_id: int) -> str:
    """Push one pending row with mark_tag; returns the row's new status.

    A retryable WeComError is recorded and re-raised (the task retries it) until the attempts
    run out; a permanent one marks the row failed. The local edit is never touched.
    """
    row = TagOutbox.objects.filter(pk=row_id).first()
    if row is None or row.status != TagOutbox.Status.PENDING:
        return row.status if row else ""
    ids = {*row.add_tag_ids, *row.remove_tag_ids}
    # Local-only tags (no wecom_tag_id) exist only here: nothing to push for them.
    wecom_ids = dict(
        Tag.objects.filter(pk__in=ids, wecom_tag_id__isnull=False)
        .exclude(wecom_tag_id="")
        .values_list("pk", "wecom_tag_id")
    )
    add = [wecom_ids[pk] for pk in row.add_tag_ids if pk in wecom_ids]
    remove = [wecom_ids[pk] for pk in row.remove_tag_ids if pk in wecom_ids]
    try:
        if add or remove:
            api.mark_tag(userid=row.userid, external_userid=row.external_userid, add=add, remove=remove)
    except WeComError as exc:
        attempts = row.attempts + 1
        retry = exc.retryable and attempts < TAG_PUSH_MAX_ATTEMPTS
        status = TagOutbox.Status.PENDING if retry else TagOutbox.Status.FAILED
        TagOutbox.objects.filter(pk=row.pk, status=TagOutbox.Status.PENDING).update(
            attempts=attempts,
            status=status,
            last_error=f"{exc.errcode}: {exc.reason}"[:255],
            processed_at=None if retry else timezone.now(),
        )
        if retry:
            raise
        return status
    TagOutbox.objects.filter(pk=row.pk, status=TagOutbox.Status.PENDING).update(
        attempts=F("attempts") + 1, status=TagOutbox.Status.DONE, last_error="", processed_at=timezone.now()
    )
    return TagOutbox.Status.DONE


def tag_outbox_retry(*, row_ids: list[int]) -> int:
    """Admin's 重新推送: failed (or stuck) rows go back to pending and are dispatched again."""
    rows = list(TagOutbox.objects.filter(pk__in=row_ids).exclude(status=TagOutbox.Status.DONE))
    TagOutbox.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=TagOutbox.Status.PENDING, attempts=0, last_error="", processed_at=None
    )
    for row in rows:
        transaction.on_commit(lambda pk=row.pk: tag_outbox_dispatch(pk))
    return len(rows)


def tag_outbox_pending_ids(*, older_than: dt.timedelta = dt.timedelta(minutes=1)) -> list[int]:
    """Rows the sweep should dispatch again: pending for longer than a dispatch takes."""
    cutoff = timezone.now() - older_than
    return list(
        TagOutbox.objects.filter(status=TagOutbox.Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )


# --- callbacks: receive -----------------------------------------------------------------------

# WeCom signs the timestamp; older requests are refused so a captured one cannot be replayed later.
CALLBACK_MAX_SKEW = 300
CALLBACK_MAX_BODY = 64 * 1024
INBOX_MAX_ATTEMPTS = 5
# Fields that identify one event; WeCom's redelivery repeats them exactly.
_KEY_FIELDS = [
    "ToUserName",
    "FromUserName",
    "CreateTime",
    "MsgType",
    "Event",
    "ChangeType",
    "UserID",
    "ExternalUserID",
    "Id",
    "TagType",
    "StrategyId",
    "ChatId",
    "FailReason",
    "MsgId",
]


class CallbackRejected(Exception):
    """The callback is not from WeCom, too old, a replay, or unreadable. The view answers 403."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _crypto() -> WeChatCrypto:
    return WeChatCrypto(settings.WECOM_CALLBACK_TOKEN, settings.WECOM_CALLBACK_AES_KEY, settings.WECOM_CORP_ID)


def _check_query(msg_signature: str, timestamp: str, nonce: str) -> None:
    if not (settings.WECOM_CALLBACK_TOKEN and settings.WECOM_CALLBACK_AES_KEY):
        # With no token anyone could sign; refuse until the deployment sets both.
        raise CallbackRejected(_("回调服务未配置 Token 与 EncodingAESKey"))
    if not (msg_signature and timestamp and nonce) or len(msg_signature) > 64 or len(nonce) > 64:
        raise CallbackRejected(_("缺少或非法的签名参数"))
    try:
        sent = int(timestamp)
    except ValueError:
        raise CallbackRejected(_("时间戳无效")) from None
    if abs(time.time() - sent) > CALLBACK_MAX_SKEW:
        raise CallbackRejected(_("时间戳已过期"))


def _signature_ok(msg_signature: str, timestamp: str, nonce: str, data: str) -> bool:
    expected = _get_signature(settings.WECOM_CALLBACK_TOKEN, timestamp, nonce, data)
    return hmac.compare_digest(expected, msg_signature)


def _decrypt(data: str) -> str:
    try:
        plain = PrpCrypto(_crypto().key).decrypt(data, settings.WECOM_CORP_ID)
    except Exception:  # bad base64, padding, corp id: all mean "not ours"
        raise CallbackRejected(_("无法解密消息")) from None
    return plain.decode() if isinstance(plain, bytes) else plain


def _parse_xml(text: str | bytes) -> dict:
    if isinstance(text, bytes):
        try:
            text = text.decode()
        except UnicodeDecodeError:
            raise CallbackRejected(_("消息不是 UTF-8 编码")) from None
    # WeCom never sends a DTD; refusing one rules out entity-expansion attacks.
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise CallbackRejected(_("消息格式错误"))
    try:
        parsed = xmltodict.parse(text)
    except Exception:
        raise CallbackRejected(_("消息格式错误")) from None
    root = parsed.get("xml") if isinstance(parsed, dict) else None
    if not isinstance(root, dict):
        raise CallbackRejected(_("消息格式错误"))
    return root


CALLBACK_MAX_DEPTH = 10


def _deeper_than(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return False


def callback_verify_url(*, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
    """WeCom's URL check: verify the signature over echostr and answer it decrypted."""
    _check_query(msg_signature, timestamp, nonce)
    if not echostr or not _signature_ok(msg_signature, timestamp, nonce, echostr):
        raise CallbackRejected(_("签名校验失败"))
    return _decrypt(echostr)


def inbox_key(event: dict) -> str:
    raw = "|".join(f"{name}={event.get(name) or ''}" for name in _KEY_FIELDS)
    return hashlib.sha256(raw.encode()).hexdigest()


def callback_accept(*, msg_signature: str, timestamp: str, nonce: str, body: bytes) -> tuple[CallbackInbox, bool]:
    """Verify, decrypt and store one callback; returns (row, created). Raises CallbackRejected.

    A redelivered event (same fields, new signature) returns the stored row with created=False.
    """
    _check_query(msg_signature, timestamp, nonce)
    if not body or len(body) > CALLBACK_MAX_BODY:
        raise CallbackRejected(_("消息体为空或过大"))
    encrypted = _parse_xml(body).get("Encrypt")
    if not isinstance(encrypted, str) or not encrypted:
        raise CallbackRejected(_("消息格式错误"))
    if not _signature_ok(msg_signature, timestamp, nonce, encrypted):
        raise CallbackRejected(_("签名校验失败"))
    event = _parse_xml(_decrypt(encrypted))
    if _deeper_than(event, CALLBACK_MAX_DEPTH):
        # WeCom's events nest a few levels at most; a deep one would only exhaust the JSON encoder.
        raise CallbackRejected(_("消息格式错误"))
    # Nested elements (rare, e.g. UpdateDetail lists) are kept as parsed; ids are plain strings.
    flat = {k: v for k, v in event.items() if v is not None}

    with transaction.atomic():
        try:
            with transaction.atomic():
                CallbackNonce.objects.create(msg_signature=msg_signature, nonce=nonce)
        except IntegrityError:
            # The very same signed request again: WeCom retrying one we answered too slowly, or a
            # replay. Either way the message is stored already; say so rather than fail WeCom's retry.
            stored = CallbackInbox.objects.filter(key=inbox_key(flat)).first()
            if stored is None:
                raise CallbackRejected(_("重复的请求")) from None
            return stored, False
        row, created = CallbackInbox.objects.get_or_create(
            key=inbox_key(flat),
            defaults={
                "event": str(flat.get("Event", ""))[:64],
                "change_type": str(flat.get("ChangeType", ""))[:64],
                "userid": str(flat.get("UserID", ""))[:64],
                "external_userid": str(flat.get("ExternalUserID", ""))[:64],
                "payload": flat,
            },
        )
        if created:
            if row.change_type == "add_external_contact":
                # First, on its own queue: WeCom's WelcomeCode is valid for 20 seconds only.
                received_at = row.received_at
                transaction.on_commit(lambda: welcome_dispatch(payload=flat, received_at=received_at))
            transaction.on_commit(lambda: inbox_dispatch(row.pk))
    return row, created


def inbox_dispatch(row_id: int) -> None:
    from scrm.wecom import tasks

    try:
        tasks.process_callback.delay(row_id)
    except Exception:  # broker unreachable: the row stays pending for the sweep
        logger.warning("callback inbox %s left for the sweep", row_id, exc_info=True)


def callback_nonces_prune(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    # Requests older than CALLBACK_MAX_SKEW are refused anyway, so old nonces can go.
    return CallbackNonce.objects.filter(received_at__lt=timezone.now() - older_than).delete()[0]


# --- shared upserts (callbacks and sync) ------------------------------------------------------


def _ts(value) -> dt.datetime:
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
        try:
            with transaction.atomic():
                staff = Staff.objects.create(userid=userid, departed_at=None if active else timezone.now(), **values)
            return staff, True
        except IntegrityError:
            # Two callbacks of a new member processed at once: the other one created it first; refresh
            # that row instead of failing this callback (which would wait a minute for the sweep).
            staff = Staff.objects.get(userid=userid)
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
            added_at=_ts(follow.get("createtime")),
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


# --- callbacks: process -----------------------------------------------------------------------


@dataclass
class Fetched:
    """What processing needed from WeCom, fetched before any row is locked."""

    user: dict | None = None
    contact: dict | None = None
    corp_tags: list[dict] | None = None


class Skip(Exception):
    """Nothing to do for this event; the reason is recorded on the row."""


def _customer_of(external_userid: str) -> Customer | None:
    identity = (
        Identity.objects.select_related("customer").filter(kind=IdentityKind.WECOM, value=external_userid).first()
    )
    return identity.customer if identity else None


def _staff_of(userid: str, fetched: Fetched) -> Staff:
    staff = Staff.objects.filter(userid=userid).first()
    if staff is not None:
        return staff
    if fetched.user is None:
        raise Skip(_("未知的企业微信成员 %(userid)s") % {"userid": userid})
    return staff_upsert_from_wecom(user=fetched.user)[0]


def inbox_fetch(*, payload: dict) -> Fetched:
    """Everything processing `payload` needs from WeCom. Raises WeComError."""
    fetched = Fetched()
    event, change = payload.get("Event"), payload.get("ChangeType")
    if event == "change_external_tag":
        fetched.corp_tags = api.corp_tag_list()
        return fetched
    if event != "change_external_contact":
        return fetched
    userid = payload.get("UserID") or ""
    if userid and not Staff.objects.filter(userid=userid).exists():
        try:
            fetched.user = api.user_get(userid)
        except WeComError as exc:
            if exc.retryable or change in ("add_external_contact", "add_half_external_contact"):
                raise
            # A member who already left cannot be fetched; a delete still goes on the timeline.
    if change in ("add_external_contact", "add_half_external_contact", "edit_external_contact"):
        ext = payload.get("ExternalUserID") or ""
        # An add's welcome has usually just fetched the contact; an edit always asks WeCom afresh.
        fetched.contact = (
            api.external_contact_get_fresh(ext) if change == "add_external_contact" else (api.external_contact_get(ext))
        )
        follow = _follow_of(fetched.contact, userid)
        if follow and unknown_tag_ids(follow_tag_ids(follow)):
            fetched.corp_tags = api.corp_tag_list()
    return fetched


def _follow_of(contact: dict, userid: str) -> dict | None:
    return next((f for f in contact.get("follow_user") or [] if f.get("userid") == userid), None)


def _apply_contact_added(row: CallbackInbox, payload: dict, fetched: Fetched) -> None:
    staff = _staff_of(row.userid, fetched)
    follow = _follow_of(fetched.contact, row.userid)
    if follow is None:
        # Deleted again before we got here; the delete event ends nothing then, which is right.
        raise Skip(_("客户已不在该成员的好友列表"))
    if fetched.corp_tags is not None:
        corp_tags_apply(groups=fetched.corp_tags)
    result = contact_upsert(
        staff=staff, external_contact=fetched.contact["external_contact"], follow=follow, state=payload.get("State", "")
    )
    state = payload.get("State") or follow.get("state") or ""
    occurred_at = _ts(payload.get("CreateTime"))
    # A 渠道活码's add: counted against the guide's cap, tagged with the code's tags, its source kept.
    code = livecode_on_added(
        relation=result.relation, customer=result.customer, staff=staff, state=state, added_at=occurred_at
    )
    title = _("添加导购 %(staff)s 为好友") % {"staff": staff.name}
    if code is not None:
        title = _("通过「%(source)s」添加导购 %(staff)s 为好友") % {"source": code.source_label, "staff": staff.name}
    event_record(
        customer=result.customer,
        kind=EventKind.FRIEND_ADDED,
        occurred_at=occurred_at,
        channel=Channel.WECOM,
        staff=staff,
        title=title,
        dedupe_key=f"wecom:cb:{row.key}",
        payload={
            "userid": staff.userid,
            "external_userid": row.external_userid,
            "state": state,
            "welcome_code": payload.get("WelcomeCode") or "",
            "add_way": result.relation.add_way,
            "half": row.change_type == "add_half_external_contact",
            **({"live_code_id": code.pk, "live_code": code.name, "channel_group": code.channel_group} if code else {}),
        },
    )


def _apply_contact_edited(row: CallbackInbox, payload: dict, fetched: Fetched) -> None:
    staff = _staff_of(row.userid, fetched)
    follow = _follow_of(fetched.contact, row.userid)
    if follow is None:
        raise Skip(_("客户已不在该成员的好友列表"))
    if fetched.corp_tags is not None:
        corp_tags_apply(groups=fetched.corp_tags)
    result = contact_upsert(staff=staff, external_contact=fetched.contact["external_contact"], follow=follow)
    if not (result.changes or result.tags_added or result.tags_removed or result.created):
        return
    event_record(
        customer=result.customer,
        kind=EventKind.FRIEND_EDITED,
        occurred_at=_ts(payload.get("CreateTime")),
        channel=Channel.WECOM,
        staff=staff,
        title=_("导购 %(staff)s 更新了客户信息") % {"staff": staff.name},
        dedupe_key=f"wecom:cb:{row.key}",
        payload={
            "userid": staff.userid,
            "external_userid": row.external_userid,
            "changes": {k: v[1] for k, v in result.changes.items()},
            "tags_added": result.tags_added,
            "tags_removed": result.tags_removed,
        },
    )


def _apply_contact_deleted(row: CallbackInbox, payload: dict, fetched: Fetched, *, by: str) -> None:
    customer = _customer_of(row.external_userid)
    if customer is None:
        raise Skip(_("本地没有这个客户"))
    staff = Staff.objects.filter(userid=row.userid).first()
    if staff is None and fetched.user:
        staff = staff_upsert_from_wecom(user=fetched.user)[0]
    occurred_at = _ts(payload.get("CreateTime"))
    if staff is not None:
        relation_end(staff=staff, external_userid=row.external_userid, ended_by=by, ended_at=occurred_at)
    staff_name = staff.name if staff else row.userid
    if by == FollowRelation.EndedBy.CUSTOMER:
        kind, title = EventKind.FRIEND_DELETED_BY_CUSTOMER, _("客户删除了导购 %(staff)s") % {"staff": staff_name}
        # Losing the guide is a churn signal: lifecycle and churn risk change now.
        customer_figures_refresh_later(customer_ids=[customer.pk])
    else:
        kind, title = EventKind.FRIEND_DELETED_BY_STAFF, _("导购 %(staff)s 删除了客户") % {"staff": staff_name}
    event_record(
        customer=customer,
        kind=kind,
        occurred_at=occurred_at,
        channel=Channel.WECOM,
        staff=staff,
        title=title,
        dedupe_key=f"wecom:cb:{row.key}",
        payload={"userid": row.userid, "external_userid": row.external_userid},
    )


_FAIL_REASONS = {
    "customer_refused": _("客户拒绝转接"),
    "customer_limit_exceed": _("接替成员的客户数已达上限"),
}


def _apply_transfer_fail(row: CallbackInbox, payload: dict, fetched: Fetched) -> None:
    customer = _customer_of(row.external_userid)
    if customer is None:
        raise Skip(_("本地没有这个客户"))
    staff = Staff.objects.filter(userid=row.userid).first()
    reason = payload.get("FailReason") or ""
    # UserID is the takeover. A hand-over item waiting on this settles now; its key is shared with
    # the transfer_result poll, so the timeline gets one event whichever comes first.
    item = handover_item_fail_from_callback(
        takeover_userid=row.userid,
        external_userid=row.external_userid,
        fail_reason=reason,
        at=_ts(payload.get("CreateTime")),
    )
    event_record(
        customer=customer,
        kind=EventKind.TRANSFER_FAILED,
        occurred_at=_ts(payload.get("CreateTime")),
        channel=Channel.WECOM,
        staff=staff,
        title=_("转接失败：%(reason)s") % {"reason": _FAIL_REASONS.get(reason, reason or _("未知原因"))},
        dedupe_key=item.failed_event_key if item else f"wecom:cb:{row.key}",
        payload={"userid": row.userid, "external_userid": row.external_userid, "reason": reason},
    )


def _apply(row: CallbackInbox, fetched: Fetched) -> None:
    payload, change = row.payload, row.change_type
    if row.event == "change_external_tag":
        corp_tags_apply(groups=fetched.corp_tags or [])
    elif row.event == "msgaudit_notify":
        chat_archive_pull()
    elif row.event != "change_external_contact":
        raise Skip(_("不处理的事件类型 %(event)s") % {"event": row.event or payload.get("MsgType", "")})
    elif not row.userid or not row.external_userid:
        raise Skip(_("事件缺少 UserID 或 ExternalUserID"))
    elif change in ("add_external_contact", "add_half_external_contact"):
        _apply_contact_added(row, payload, fetched)
    elif change == "edit_external_contact":
        _apply_contact_edited(row, payload, fetched)
    elif change == "del_external_contact":
        _apply_contact_deleted(row, payload, fetched, by=FollowRelation.EndedBy.STAFF)
    elif change == "del_follow_user":
        _apply_contact_deleted(row, payload, fetched, by=FollowRelation.EndedBy.CUSTOMER)
    elif change == "transfer_fail":
        _apply_transfer_fail(row, payload, fetched)
    else:
        raise Skip(_("不处理的变更类型 %(change)s") % {"change": change})


def inbox_process(*, row_id: int) -> str:
    """Apply one stored callback once; returns the row's status afterwards.

    The status guard under select_for_update makes a second run (redelivered task, sweep)
    a no-op. Failures are recorded on the row: retryable ones stay pending for the sweep
    until INBOX_MAX_ATTEMPTS, permanent ones are marked failed at once.
    """
    row = CallbackInbox.objects.filter(pk=row_id).first()
    if row is None or row.status != CallbackInbox.Status.PENDING:
        return row.status if row else ""
    try:
        fetched = inbox_fetch(payload=row.payload)
        with transaction.atomic():
            row = CallbackInbox.objects.select_for_update().get(pk=row_id)
            if row.status != CallbackInbox.Status.PENDING:
                return row.status
            try:
                with transaction.atomic():
                    _apply(row, fetched)
                row.status, row.last_error = CallbackInbox.Status.DONE, ""
            except Skip as skip:
                row.status, row.last_error = CallbackInbox.Status.SKIPPED, str(skip)[:255]
            row.attempts += 1
            row.processed_at = timezone.now()
            row.save(update_fields=["status", "last_error", "attempts", "processed_at"])
            return row.status
    except WeComError as exc:
        return _inbox_failed(row_id, f"{exc.errcode}: {exc.reason}", retryable=exc.retryable)
    except Exception as exc:
        # A bug or a database hiccup: keep the row, record why, let the sweep try again.
        logger.exception("callback inbox %s failed", row_id)
        return _inbox_failed(row_id, f"{type(exc).__name__}: {exc}", retryable=True)


def _inbox_failed(row_id: int, error: str, *, retryable: bool) -> str:
    row = CallbackInbox.objects.get(pk=row_id)
    if row.status != CallbackInbox.Status.PENDING:
        return row.status
    attempts = row.attempts + 1
    status = (
        CallbackInbox.Status.PENDING if retryable and attempts < INBOX_MAX_ATTEMPTS else CallbackInbox.Status.FAILED
    )
    CallbackInbox.objects.filter(pk=row_id, status=CallbackInbox.Status.PENDING).update(
        attempts=attempts, last_error=error[:255], status=status, processed_at=timezone.now()
    )
    return status


def inbox_pending_ids(*, older_than: dt.timedelta = dt.timedelta(minutes=1)) -> list[int]:
    """Pending rows the sweep should process: older than a normal dispatch takes."""
    cutoff = timezone.now() - older_than
    return list(
        CallbackInbox.objects.filter(status=CallbackInbox.Status.PENDING, received_at__lt=cutoff)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:500]
    )


def inbox_retry(*, row_ids: list[int]) -> int:
    """Admin's 重新处理: failed rows go back to pending and are dispatched again."""
    ids = list(
        CallbackInbox.objects.filter(pk__in=row_ids, status=CallbackInbox.Status.FAILED).values_list("pk", flat=True)
    )
    CallbackInbox.objects.filter(pk__in=ids).update(status=CallbackInbox.Status.PENDING, attempts=0, last_error="")
    for pk in ids:
        transaction.on_commit(lambda pk=pk: inbox_dispatch(pk))
    return len(ids)
