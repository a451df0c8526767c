"""Writes of 今日: recompute a customer's reminders from their facts, and the guide's actions on items.

`reminders_refresh` is the one computation: the after-write hooks (scrm.today.hooks, on commit) and
the nightly pass (`reminders_refresh_all`) both call it, so they leave the same items.
"""

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers.models import Customer, Note
from scrm.materials.models import Material
from scrm.org.models import Staff
from scrm.today import scoring
from scrm.today.facts import facts_load, products_load
from scrm.today.models import ReminderItem, ReminderKind, ReminderSettings
from scrm.today.rules import ProductInfo, specs_for
from scrm.today.sop import sop_specs

State = ReminderItem.State
REFRESH_BATCH = 500
# Materials offered with a reminder whose rule names no product: the most-sent sendable material whose
# title or keywords hold one of these words, first word first. Product reminders (补货, 意向) offer the
# product's own card or nothing: a "礼盒推荐" beside an eye cream reads as a mistake.
KIND_MATERIAL_TERMS = {
    ReminderKind.FOLLOW_UP: ["回访"],
    ReminderKind.REPURCHASE: ["会员日", "回购"],
    ReminderKind.REPLENISH: [],
    ReminderKind.CHURN: ["唤醒", "回归"],
    ReminderKind.BIRTHDAY: ["生日"],
    ReminderKind.HANDOVER: ["换导购", "问候"],
    ReminderKind.INTENT: [],
    ReminderKind.DELETED: [],
}
_UPDATED_FIELDS = ["due_on", "context", "material_id", "score", "trigger_at", "urgent_at"]


def _kind_material_id(kind: str, now: dt.datetime, cache: dict) -> int | None:
    if kind not in cache:
        cache[kind] = None
        sendable = (
            Material.objects.filter(status=Material.Status.PUBLISHED)
            .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=now))
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        )
        for term in KIND_MATERIAL_TERMS.get(kind, []):
            found = (
                sendable.filter(Q(title__contains=term) | Q(keywords__contains=term))
                .order_by("-send_count", "-id")
                .values_list("pk", flat=True)
                .first()
            )
            if found:
                cache[kind] = found
                break
    return cache[kind]


def _apply(item: ReminderItem, fields: dict, today: dt.date) -> bool:
    changed = False
    for name, value in fields.items():
        if getattr(item, name) != value:
            setattr(item, name, value)
            changed = True
    if item.state == State.EXPIRED:  # the rule holds again: the same occurrence is live again
        item.state, item.closed_at, changed = State.OPEN, None, True
    if item.state == State.SNOOZED and item.snoozed_until and item.snoozed_until <= today:
        item.state, item.snoozed_until, changed = State.OPEN, None, True
    return changed


@transaction.atomic
def reminders_refresh(
    *,
    customer_ids: Iterable[int],
    now: dt.datetime | None = None,
    cfg: ReminderSettings | None = None,
    products: dict[str, ProductInfo] | None = None,
) -> list[int]:
    """Bring these customers' reminder items in line with their facts at `now`.

    New specs become open items, live items whose rule no longer holds expire (a lapsed reminder),
    done / dismissed items stay as the guide left them. Returns the ids of items created or reopened
    that are already urgent (for an immediate push).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    cfg = cfg or ReminderSettings.current()
    products = products if products is not None else products_load()
    customer_ids = list(dict.fromkeys(customer_ids))
    facts = facts_load(customer_ids=customer_ids, now=now, cfg=cfg)
    materials: dict = {}
    wanted: dict[tuple, dict] = {}
    specs = [(c, spec) for c, f in facts.items() for spec in specs_for(f, cfg=cfg, now=now, products=products)]
    for customer_id, spec in [*specs, *sop_specs(facts=facts, now=now)]:
        f = facts[customer_id]
        wanted[(spec.kind, customer_id, spec.staff_id, spec.occurrence)] = {
            "due_on": spec.due_on,
            "context": spec.context,
            "material_id": spec.material_id or _kind_material_id(spec.kind, now, materials),
            "score": scoring.score(
                kind=spec.kind,
                due_on=spec.due_on,
                today=today,
                total_spend=f.total_spend,
                trigger_at=spec.trigger_at,
                now=now,
                strength=spec.strength,
            ),
            "trigger_at": spec.trigger_at,
            "urgent_at": spec.urgent_at,
        }
    existing = {
        (i.kind, i.customer_id, i.staff_id, i.occurrence): i
        # Every requested customer: one merged into another has no facts, so its live items expire.
        for i in ReminderItem.objects.select_for_update().filter(customer_id__in=customer_ids)
    }
    changed, created, urgent = [], [], []
    for key, fields in wanted.items():
        item = existing.get(key)
        if item is None:
            kind, customer_id, staff_id, occurrence = key
            item = ReminderItem(kind=kind, customer_id=customer_id, staff_id=staff_id, occurrence=occurrence, **fields)
            created.append(item)
        else:
            was_live = item.state in ReminderItem.LIVE_STATES
            if _apply(item, fields, today):
                item.updated_at = now
                changed.append(item)
            if was_live:
                continue
        if item.urgent_at and item.urgent_at <= now and item.pushed_at is None:
            urgent.append(item)
    for key, item in existing.items():
        if key not in wanted and item.state in ReminderItem.LIVE_STATES:
            item.state, item.closed_at, item.updated_at = State.EXPIRED, now, now
            changed.append(item)
    ReminderItem.objects.bulk_create(created)
    if changed:
        ReminderItem.objects.bulk_update(
            changed, [*_UPDATED_FIELDS, "state", "closed_at", "snoozed_until", "updated_at"]
        )
    return [i.pk for i in urgent if i.pk and i.state == State.OPEN]


def reminders_refresh_all(*, now: dt.datetime | None = None, batch: int = REFRESH_BATCH) -> int:
    """The nightly pass: every customer, in batches; the same computation as the incremental path."""
    now = now or timezone.now()
    cfg, products = ReminderSettings.current(), products_load()
    ids = Customer.objects.filter(merged_into__isnull=True).order_by("pk").values_list("pk", flat=True)
    count, last = 0, 0
    while chunk := list(ids.filter(pk__gt=last)[:batch]):
        reminders_refresh(customer_ids=chunk, now=now, cfg=cfg, products=products)
        count, last = count + len(chunk), chunk[-1]
    # Customers merged into others are not visited above: their live items lapse here.
    ReminderItem.objects.filter(state__in=ReminderItem.LIVE_STATES, customer__merged_into__isnull=False).update(
        state=State.EXPIRED, closed_at=now, updated_at=now
    )
    return count


# --- the guide's actions ------------------------------------------------------------------------


def _live(item: ReminderItem) -> None:
    if item.state not in ReminderItem.LIVE_STATES:
        raise ValidationError(_("这条提醒已处理过了。"))


def _check_owner(item: ReminderItem, staff: Staff) -> None:
    if item.staff_id != staff.pk:
        raise PermissionError("not this guide's reminder")


SNOOZE_DAYS = {"tomorrow": 1, "next_week": 7}


@transaction.atomic
def reminder_snooze(*, item: ReminderItem, staff: Staff, until: str, today: dt.date | None = None) -> ReminderItem:
    """Hide the item until tomorrow or the same day next week."""
    _check_owner(item, staff)
    _live(item)
    if until not in SNOOZE_DAYS:
        raise ValidationError(_("请选择推迟到明天或下周。"))
    today = today or timezone.localdate()
    item.state, item.snoozed_until = State.SNOOZED, today + dt.timedelta(days=SNOOZE_DAYS[until])
    item.save(update_fields=["state", "snoozed_until", "updated_at"])
    return item


@transaction.atomic
def reminder_dismiss(
    *, item: ReminderItem, staff: Staff, reason: str, note: str = "", now: dt.datetime | None = None
) -> ReminderItem:
    _check_owner(item, staff)
    _live(item)
    if reason not in ReminderItem.DismissReason.values:
        raise ValidationError(_("请选择忽略原因。"))
    note = (note or "").strip()
    if reason == ReminderItem.DismissReason.OTHER and not note:
        raise ValidationError(_("选择“其他”时请写明原因。"))
    item.state, item.dismiss_reason, item.dismiss_note = State.DISMISSED, reason, note[:200]
    item.closed_at = now or timezone.now()
    item.save(update_fields=["state", "dismiss_reason", "dismiss_note", "closed_at", "updated_at"])
    return item


def _close(items: list[ReminderItem], via: str, at: dt.datetime) -> None:
    for item in items:
        item.state, item.done_via, item.closed_at, item.updated_at = State.DONE, via, at, at
    ReminderItem.objects.bulk_update(items, ["state", "done_via", "closed_at", "updated_at"])
    note_ids = [i.context.get("note_id") for i in items if i.kind == ReminderKind.FOLLOW_UP]
    # Doing a follow-up closes its note's 下次联系: overdue counts only open follow-ups.
    Note.objects.filter(pk__in=[n for n in note_ids if n], done=False).update(done=True)


@transaction.atomic
def reminder_done(*, item: ReminderItem, staff: Staff, now: dt.datetime | None = None) -> ReminderItem:
    _check_owner(item, staff)
    _live(item)
    _close([item], ReminderItem.DoneVia.MANUAL, now or timezone.now())
    return item


@transaction.atomic
def reminders_complete_for_contact(*, staff_id: int, customer_id: int, via: str, at: dt.datetime | None = None) -> int:
    """The guide reached the customer (sent a material, wrote a note): their live items are done.

    A 删除了我 item stays: nothing reaches a customer who deleted the guide.
    """
    items = list(
        ReminderItem.objects.select_for_update()
        .filter(staff_id=staff_id, customer_id=customer_id, state__in=ReminderItem.LIVE_STATES)
        .exclude(kind=ReminderKind.DELETED)
    )
    if items:
        _close(items, via, at or timezone.now())
    return len(items)


@transaction.atomic
def note_follow_up_close(*, note: Note, staff: Staff, now: dt.datetime | None = None) -> Note:
    """Close a note's 下次联系 without writing another note; its reminder is done."""
    if note.staff_id != staff.pk:
        raise PermissionError("not this guide's note")
    items = list(
        ReminderItem.objects.select_for_update().filter(
            kind=ReminderKind.FOLLOW_UP, occurrence=f"n{note.pk}", state__in=ReminderItem.LIVE_STATES
        )
    )
    _close(items, ReminderItem.DoneVia.MANUAL, now or timezone.now())
    Note.objects.filter(pk=note.pk).update(done=True)
    note.done = True
    return note
