"""Writes of 渠道活码: codes (WeCom contact ways), their user lists, adds through them, welcomes.

Everything that calls WeCom runs in Celery after commit (`tasks`); the welcome path runs on its own
high-priority queue because WeCom's WelcomeCode is valid for 20 seconds only.
"""

import datetime as dt
import logging
import re
import secrets
import time
from contextlib import nullcontext
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers.models import Customer, FollowRelation, Identity, IdentityKind, Tag
from scrm.customers.services import customer_tag_add
from scrm.livecodes.models import (
    MAX_ATTACHMENTS,
    MAX_STATE,
    LiveCode,
    LiveCodeAdd,
    LiveCodeAttachment,
    LiveCodeDayCount,
    LiveCodeDecision,
    LiveCodeGuide,
    StoreWelcome,
    WelcomeSend,
)
from scrm.livecodes.spread import duty_guides
from scrm.materials.media import MEDIA_KINDS, material_media_ensure
from scrm.materials.models import Material
from scrm.materials.placeholders import material_render_text, placeholder_values
from scrm.materials.sending import absolute_url
from scrm.observe.metrics import WELCOME_LATE
from scrm.org.models import Staff, Store
from scrm.wecom import api
from scrm.wecom.errors import WeComError

logger = logging.getLogger(__name__)

Reason = LiveCodeDecision.Reason
STATE_CHARS = re.compile(r"^[A-Za-z0-9_\-]+$")
WELCOME_EXPIRED = 41051  # WeCom: welcome_code invalid (expired or already used)
WELCOME_MAX_TRIES = 3
# WeCom's window opens before its callback reaches us: past this from received_at, it has surely closed.
WELCOME_WINDOW = dt.timedelta(seconds=20)
ATTACHMENT_KINDS = {Material.Kind.IMAGE, Material.Kind.VIDEO, Material.Kind.FILE, Material.Kind.LINK}
ATTACHMENT_KINDS |= {Material.Kind.MINIPROGRAM}


# --- codes ------------------------------------------------------------------------------------


def state_generate() -> str:
    """A fresh state: short, URL-safe, unique enough to never collide (checked by the unique index)."""
    return f"lc_{secrets.token_hex(8)}"


@dataclass
class CodeInput:
    """What the console edits; the service checks what the form cannot (state shape, membership)."""

    name: str
    channel_group: str
    store: Store | None
    spread_mode: str
    guides: list[Staff]
    backups: list[Staff]
    daily_cap: int | None = None
    work_start: dt.time | None = None
    work_end: dt.time | None = None
    off_hours_guide: Staff | None = None
    skip_verify: bool = True
    tags: list[Tag] | None = None
    welcome_text: str = ""
    attachments: list[Material] | None = None
    state: str = ""


def _check(data: CodeInput, *, code: LiveCode | None) -> None:
    errors: dict[str, list[str]] = {}
    if data.state and code is not None and data.state != code.state and code.adds.exists():
        # Earlier adds carry the old state in WeCom and here: changing it would orphan their source.
        errors.setdefault("state", []).append(_("已有客户通过此活码添加，不能再修改渠道标识。"))
    elif data.state:
        if len(data.state) > MAX_STATE or not STATE_CHARS.match(data.state):
            errors.setdefault("state", []).append(_("渠道标识最多 30 个字符，只能用字母、数字、下划线和短横线。"))
        elif LiveCode.objects.filter(state=data.state).exclude(pk=code.pk if code else None).exists():
            errors.setdefault("state", []).append(_("这个渠道标识已被其他活码使用。"))
    if data.spread_mode == "by_store":
        if data.store is None:
            errors.setdefault("store", []).append(_("按门店分配需要选择门店。"))
    elif not data.guides:
        errors.setdefault("guides", []).append(_("请至少选择一位接待导购。"))
    if data.spread_mode == "single" and len(data.guides) > 1:
        errors.setdefault("guides", []).append(_("单人活码只能选择一位接待导购。"))
    overlap = {s.pk for s in data.guides} & {s.pk for s in data.backups}
    if overlap:
        errors.setdefault("backups", []).append(_("同一位导购不能既是接待导购又是备用导购。"))
    if (data.work_start is None) != (data.work_end is None):
        errors.setdefault("work_end", []).append(_("工作时间需要同时填写开始和结束。"))
    if data.off_hours_guide is not None and data.work_start is None:
        errors.setdefault("off_hours_guide", []).append(_("设置了非工作时间导购时，请同时填写工作时间。"))
    if len(data.attachments or []) > MAX_ATTACHMENTS:
        errors.setdefault("attachments", []).append(_("欢迎语附件最多 9 个。"))
    bad = [m for m in data.attachments or [] if m.kind not in ATTACHMENT_KINDS]
    if bad:
        errors.setdefault("attachments", []).append(_("欢迎语附件只能是图片、链接、小程序、视频或文件。"))
    if errors:
        raise ValidationError(errors)


def _apply(code: LiveCode, data: CodeInput) -> None:
    for name in (
        "name",
        "channel_group",
        "store",
        "spread_mode",
        "daily_cap",
        "work_start",
        "work_end",
        "off_hours_guide",
        "skip_verify",
        "welcome_text",
    ):
        setattr(code, name, getattr(data, name))
    code.save()
    code.tags.set(data.tags or [])
    LiveCodeGuide.objects.filter(code=code).delete()
    LiveCodeGuide.objects.bulk_create(
        [LiveCodeGuide(code=code, staff=s, order=i) for i, s in enumerate(data.guides)]
        + [LiveCodeGuide(code=code, staff=s, backup=True, order=i) for i, s in enumerate(data.backups)]
    )
    LiveCodeAttachment.objects.filter(code=code).delete()
    LiveCodeAttachment.objects.bulk_create(
        [LiveCodeAttachment(code=code, material=m, order=i) for i, m in enumerate(data.attachments or [])]
    )


@transaction.atomic
def livecode_create(*, data: CodeInput, created_by: Staff | None) -> LiveCode:
    """Save the code and queue add_contact_way; the QR shows once WeCom answered (at once inline)."""
    _check(data, code=None)
    code = LiveCode(state=data.state or state_generate(), created_by=created_by)
    _apply(code, data)
    transaction.on_commit(lambda: livecode_sync_later(code_id=code.pk, reason=Reason.CREATED))
    return code


@transaction.atomic
def livecode_update(*, code: LiveCode, data: CodeInput) -> LiveCode:
    _check(data, code=code)
    if data.state and data.state != code.state:
        code.state = data.state
    _apply(code, data)
    LiveCode.objects.filter(pk=code.pk).update(sync_status=LiveCode.SyncStatus.PENDING)
    transaction.on_commit(lambda: livecode_sync_later(code_id=code.pk, reason=Reason.EDITED))
    return code


@transaction.atomic
def livecode_delete(*, code: LiveCode) -> None:
    """Soft-delete (adds keep their source) and queue del_contact_way."""
    LiveCode.objects.filter(pk=code.pk).update(deleted_at=timezone.now())
    transaction.on_commit(lambda: livecode_sync_later(code_id=code.pk, reason=Reason.DELETED))


def livecode_sync_later(*, code_id: int, reason: str, detail: str = "") -> None:
    from scrm.livecodes import tasks

    try:
        tasks.sync_code.delay(code_id, reason, detail)
    except Exception:  # broker down: the minute sweep syncs every code
        logger.warning("live code %s sync left for the sweep", code_id, exc_info=True)


# --- adds -------------------------------------------------------------------------------------


def livecode_for_state(state: str) -> LiveCode | None:
    if not state:
        return None
    return LiveCode.objects.filter(state=state).first()


@dataclass(frozen=True)
class AddOutcome:
    code: LiveCode
    add: LiveCodeAdd
    created: bool


def livecode_add_record(*, code: LiveCode, relation: FollowRelation, staff: Staff, added_at: dt.datetime) -> AddOutcome:
    """Count an add through `code` once (per follow relation), exactly under concurrency.

    The (code, guide, day) counter row is locked while it is read and written, so concurrent adds
    queue on it and the count is never lost nor pushed past the cap: an add WeCom hands a guide who
    is already at the cap (it raced the list update) is counted as over the cap instead. The add
    that reaches the cap, and every over-cap one, ask for a new user list at once.
    """
    with transaction.atomic():
        add, created = LiveCodeAdd.objects.get_or_create(
            relation=relation, defaults={"code": code, "staff": staff, "added_at": added_at}
        )
        if not created:
            return AddOutcome(code, add, False)
        day = timezone.localdate(added_at)
        LiveCodeDayCount.objects.get_or_create(code=code, staff=staff, day=day)
        counter = LiveCodeDayCount.objects.select_for_update().get(code=code, staff=staff, day=day)
        duty, _backups = duty_guides(code)
        cap = code.daily_cap if any(s.pk == staff.pk for s in duty) else None
        if cap is not None and counter.count >= cap:
            LiveCodeDayCount.objects.filter(pk=counter.pk).update(over_cap=F("over_cap") + 1)
            add.over_cap = True
            add.save(update_fields=["over_cap"])
            reason, detail = Reason.OVER_CAP, _("%(name)s 已达上限仍被分配（名单尚未更新）") % {"name": staff.name}
        else:
            LiveCodeDayCount.objects.filter(pk=counter.pk).update(count=F("count") + 1)
            reached = cap is not None and counter.count + 1 >= cap
            reason = Reason.CAP_REACHED if reached else ""
            detail = ""
        # Least-loaded and capped codes change their list as adds come in; the others rarely do.
        if reason or code.spread_mode == "least_today":
            transaction.on_commit(
                lambda: livecode_sync_later(code_id=code.pk, reason=reason or Reason.LEAST_TODAY, detail=detail)
            )
    return AddOutcome(code, add, True)


def livecode_on_added(
    *, relation: FollowRelation, customer: Customer, staff: Staff, state: str, added_at: dt.datetime
) -> LiveCode | None:
    """The inbox's add path: count the add, tag the customer with the code's tags (each pushed to
    WeCom through the tag outbox). Returns the code, or None when the state is not one of ours."""
    code = livecode_for_state(state)
    if code is None:
        return None
    outcome = livecode_add_record(code=code, relation=relation, staff=staff, added_at=added_at)
    if outcome.created:
        for tag in code.tags.filter(deleted=False).select_related("group"):
            customer_tag_add(customer=customer, tag=tag, staff=staff)
    return code


# --- welcome ----------------------------------------------------------------------------------


def _welcome_content(code: LiveCode, staff: Staff | None) -> tuple[str, list[Material]]:
    """The code's own welcome, else its store's (or the guide's store's) default welcome."""
    materials = [a.material for a in code.attachments.select_related("material") if a.material.is_sendable()]
    if code.welcome_text.strip() or materials:
        return code.welcome_text, materials
    store_id = code.store_id or (staff.store_id if staff else None)
    default = StoreWelcome.objects.filter(store_id=store_id).first() if store_id else None
    return (default.text if default else ""), []


NAME_PLACEHOLDERS = re.compile(r"\{(客户称呼|客户昵称)\}")


def _values(*, external_userid: str, staff: Staff | None, code: LiveCode, need_name: bool = True) -> dict[str, str]:
    identity = (
        Identity.objects.select_related("customer__store")
        .filter(kind=IdentityKind.WECOM, value=external_userid)
        .first()
    )
    customer = identity.customer if identity else None
    if customer is None:
        # A new customer: only WeCom knows the name yet (one call, the inbox fetches it in parallel).
        name = ""
        try:
            if need_name:
                name = api.external_contact_get_fresh(external_userid)["external_contact"].get("name") or ""
        except WeComError:
            logger.info("welcome: name of %s unavailable", external_userid)
        customer = Customer(name=name, store=code.store or (staff.store if staff else None))
        values = placeholder_values(customer=customer, staff=None)
        values["导购姓名"] = staff.name if staff else ""
        return values
    return placeholder_values(customer=customer, staff=staff)


_COVER_CACHE = "livecodes:cover-media:{pk}:{name}"
COVER_TTL = 60 * 60 * 60  # 2.5 days: WeCom keeps temporary media 3


def _cover_media_id(material: Material) -> str:
    field = material.cover or material.thumbnail
    if not field:
        return ""
    key = _COVER_CACHE.format(pk=material.pk, name=field.name)
    media_id = cache.get(key)
    if not media_id:
        with field.open("rb") as fileobj:
            media_id, _created = api.media_upload("image", field.name.rsplit("/", 1)[-1], fileobj)
        cache.set(key, media_id, COVER_TTL)
    return media_id


def welcome_attachment(material: Material) -> dict:
    """One send_welcome_msg attachment, shaped as WeCom documents it (doc 92599)."""
    kind = material.kind
    if kind in MEDIA_KINDS:
        return {"msgtype": kind, kind: {"media_id": material_media_ensure(material=material)}}
    if kind == Material.Kind.LINK:
        cover = material.cover or material.thumbnail
        link = {"title": material.title, "url": material.link_url, "desc": material.content[:100]}
        if cover:
            link["picurl"] = absolute_url(cover.url)
        return {"msgtype": "link", "link": link}
    if kind == Material.Kind.MINIPROGRAM:
        card = {"title": material.title, "appid": material.mp_appid, "page": material.mp_page}
        media_id = _cover_media_id(material)
        if media_id:
            card["pic_media_id"] = media_id
        return {"msgtype": "miniprogram", "miniprogram": card}
    raise ValueError(f"{kind} materials cannot be welcome attachments")


def welcome_send(
    *, welcome_code: str, userid: str, external_userid: str, state: str, received_at: dt.datetime
) -> WelcomeSend | None:
    """Send the welcome of the code behind `state`, once per WelcomeCode; None when not ours to send.

    No WelcomeCode means a welcome was configured inside WeCom: nothing is sent. The row is stored
    before WeCom is called, so a redelivered callback or a second worker never sends twice. WeCom
    refuses a code after 20 s or once used (41051): the row says expired and nothing is retried; one
    still queued 20 s after its callback is recorded expired without asking.
    """
    if not welcome_code or not state:
        return None
    # The store names {门店} of a new customer: read with the code, not after.
    code = LiveCode.objects.select_related("store").filter(state=state).first()
    if code is None or code.deleted_at is not None:
        return None
    # One INSERT claims the WelcomeCode (a savepoint only inside a caller's transaction): every query
    # before the send is time out of WeCom's 20 s, so no SELECT first and no BEGIN/COMMIT around it.
    guard = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with guard:
            row = WelcomeSend.objects.create(
                welcome_code=welcome_code,
                code=code,
                userid=userid,
                external_userid=external_userid,
                received_at=received_at,
            )
    except IntegrityError:  # a redelivered callback or a second worker: the first one sends
        return WelcomeSend.objects.filter(welcome_code=welcome_code).first()
    if timezone.now() - received_at > WELCOME_WINDOW:
        # Queued past the window (a worker down or swamped): WeCom would refuse it, so spend no calls on
        # it and leave the worker to the welcomes that can still make it.
        row.status, row.error = WelcomeSend.Status.EXPIRED, _("排队超过 20 秒，未发送")
        row.save(update_fields=["status", "error"])
        WELCOME_LATE.inc()
        return row
    staff = Staff.objects.select_related("store").filter(userid=userid).first()
    text, materials = _welcome_content(code, staff)
    if not text.strip() and not materials:
        WelcomeSend.objects.filter(pk=row.pk).update(status=WelcomeSend.Status.SKIPPED, error=_("没有设置欢迎语"))
        row.status = WelcomeSend.Status.SKIPPED
        return row
    try:
        rendered = ""
        if text.strip():
            values = _values(
                external_userid=external_userid, staff=staff, code=code, need_name=bool(NAME_PLACEHOLDERS.search(text))
            )
            rendered = material_render_text(material=Material(content=text), customer=None, staff=None, values=values)
        attachments = [welcome_attachment(m) for m in materials]
    except Exception as exc:  # a media upload failed: send the text alone rather than nothing
        logger.warning("welcome %s: attachments dropped: %s", welcome_code, exc)
        attachments = []
    status, error = WelcomeSend.Status.FAILED, ""
    for attempt in range(1, WELCOME_MAX_TRIES + 1):
        try:
            api.send_welcome_msg(welcome_code=welcome_code, text=rendered, attachments=attachments)
            status = WelcomeSend.Status.SENT
            break
        except WeComError as exc:
            error = f"{exc.errcode}: {exc.reason}"
            if exc.errcode == WELCOME_EXPIRED:
                status = WelcomeSend.Status.EXPIRED
                WELCOME_LATE.inc()  # /metrics: welcomes that missed WeCom's 20-second window
                break
            if not exc.retryable or attempt == WELCOME_MAX_TRIES:
                break
            time.sleep(0.2 * attempt)  # the 20 s window leaves no room for Celery's backoff
    row.status, row.error, row.text, row.attachments = status, error[:255], rendered, attachments
    row.sent_at = timezone.now() if status == WelcomeSend.Status.SENT else None
    row.save(update_fields=["status", "error", "text", "attachments", "sent_at"])
    return row


def welcome_dispatch(*, payload: dict, received_at: dt.datetime) -> None:
    """Called when an add callback is stored: send its welcome on the high-priority queue."""
    if not payload.get("WelcomeCode") or not payload.get("State"):
        return
    from scrm.livecodes import tasks

    try:
        tasks.send_welcome.delay(
            payload["WelcomeCode"],
            payload.get("UserID") or "",
            payload.get("ExternalUserID") or "",
            payload["State"],
            received_at.isoformat(),
        )
    except Exception:  # broker down: a welcome can only be sent within 20 s, there is no sweep for it
        logger.warning("welcome %s not dispatched", payload.get("WelcomeCode"), exc_info=True)


# --- store default welcome --------------------------------------------------------------------


def store_welcome_set(*, store: Store, text: str) -> StoreWelcome | None:
    text = text.strip()
    if not text:
        StoreWelcome.objects.filter(store=store).delete()
        return None
    welcome, _created = StoreWelcome.objects.update_or_create(store=store, defaults={"text": text})
    return welcome
