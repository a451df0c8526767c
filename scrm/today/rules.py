"""The reminder rules: pure functions from one customer's facts and a clock to reminder specs.

Each rule names the occurrence that makes an item unique, so the incremental path (a fact changed)
and the nightly pass (the days moved) compute the same specs and the same items. Thresholds come
from ReminderSettings (an admin edits them in Django admin):

- 跟进提醒 follow_up: an open note's 下次联系 date has come (overdue ones stay until done); the note's guide.
- 复购提醒 repurchase: the expected next purchase (last purchase day + median gap between purchase
  days, as the figures compute it) is within `repurchase_days_before` ahead / `_after` behind.
- 补货提醒 replenish: a catalogue product with usage days runs out (paid day + usage days × quantity of
  the customer's latest line of that SKU) within `replenish_days_before` ahead / `_after` behind.
- 流失预警 churn: the customer *became* at risk in the last `churn_new_days` days — more than
  `churn_multiple` × their cycle since the last purchase, or `churn_no_cycle_days` after a single one.
- 生日关怀 birthday: the birthday is within `birthday_window_days` (29 Feb counts as 28 Feb).
- 删除了我 deleted: the customer deleted this guide in the last `deleted_window_days` (to know, not to
  message); urgent when the customer is a VIP (spend ≥ `vip_spend`).
- 转接客户 handover: a hand-over gave this guide the customer in the last `handover_window_days`.
- 高意向 intent: carts, product views or mini-program visits in the last `intent_window_hours` and no
  order since the first of them; urgent once a cart worth ≥ `urgent_cart_amount` has waited
  `urgent_cart_after_minutes`.
Customer-level kinds go to every guide with an active relation.
"""

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from scrm.customers.events import EventKind
from scrm.today.models import ReminderKind, ReminderSettings

INTENT_KINDS = (EventKind.ADD_TO_CART, EventKind.MP_PRODUCT_VIEW, EventKind.MP_VISIT)


@dataclass(frozen=True)
class ProductInfo:
    name: str
    usage_days: int
    material_id: int | None


@dataclass
class CustomerFacts:
    customer_id: int
    total_spend: Decimal = Decimal("0")
    birthday: dt.date | None = None
    last_order_at: dt.datetime | None = None
    purchase_days: int = 0
    repurchase_cycle_days: int | None = None
    next_expected_on: dt.date | None = None
    last_activity_at: dt.datetime | None = None
    guides: list[int] = field(default_factory=list)  # staff with an active relation
    # (relation_id, staff_id, ended_at) of relations the customer ended.
    deletions: list[tuple[int, int, dt.datetime]] = field(default_factory=list)
    # (note_id, staff_id, next_contact_on, body)
    notes: list[tuple[int, int, dt.date, str]] = field(default_factory=list)
    # (line_id, sku, quantity, paid_at) of kept orders
    lines: list[tuple[int, str, int, dt.datetime]] = field(default_factory=list)
    # (event_id, staff_id, occurred_at, from_name) of hand-overs to a guide
    transfers: list[tuple[int, int, dt.datetime, str]] = field(default_factory=list)
    # (kind, occurred_at, payload) of intent events inside the window
    intents: list[tuple[str, dt.datetime, dict]] = field(default_factory=list)
    orders_paid_at: list[dt.datetime] = field(default_factory=list)


@dataclass(frozen=True)
class Spec:
    kind: str
    staff_id: int
    occurrence: str
    due_on: dt.date
    trigger_at: dt.datetime
    context: dict = field(default_factory=dict)
    material_id: int | None = None
    urgent_at: dt.datetime | None = None
    # How strong the signal is within its kind (scoring.py multiplies the kind weight by it).
    strength: float = 1.0

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.kind, self.staff_id, self.occurrence)


def _day(at: dt.datetime) -> dt.date:
    return timezone.localdate(at)


def _activity(f: CustomerFacts, now: dt.datetime) -> dt.datetime:
    """Trigger time of date-driven kinds: the customer's latest activity (warm customers rank higher)."""
    return f.last_activity_at or f.last_order_at or now - dt.timedelta(days=365)


def rule_follow_up(f: CustomerFacts, cfg: ReminderSettings, now: dt.datetime) -> list[Spec]:
    today = timezone.localdate(now)
    return [
        Spec(
            kind=ReminderKind.FOLLOW_UP,
            staff_id=staff_id,
            occurrence=f"n{note_id}",
            due_on=due,
            trigger_at=_activity(f, now),
            context={"note": body.splitlines()[0][:40] if body else "", "note_id": note_id},
        )
        for note_id, staff_id, due, body in f.notes
        if due <= today and staff_id in f.guides
    ]


def rule_repurchase(f: CustomerFacts, cfg: ReminderSettings, now: dt.datetime) -> list[Spec]:
    today = timezone.localdate(now)
    due = f.next_expected_on
    if due is None or not (-cfg.repurchase_days_after <= (due - today).days <= cfg.repurchase_days_before):
        return []
    context = {"cycle": f.repurchase_cycle_days}
    return _to_guides(f, ReminderKind.REPURCHASE, due.isoformat(), due, _activity(f, now), context)


def rule_replenish(
    f: CustomerFacts, cfg: ReminderSettings, now: dt.datetime, products: dict[str, ProductInfo]
) -> list[Spec]:
    today = timezone.localdate(now)
    latest: dict[str, tuple[int, int, dt.datetime]] = {}
    for line_id, sku, quantity, paid_at in f.lines:
        if sku in products and (sku not in latest or (paid_at, line_id) > (latest[sku][2], latest[sku][0])):
            latest[sku] = (line_id, quantity, paid_at)
    specs = []
    for sku, (line_id, quantity, paid_at) in sorted(latest.items()):
        product = products[sku]
        runs_out = _day(paid_at) + dt.timedelta(days=product.usage_days * max(quantity, 1))
        if -cfg.replenish_days_after <= (runs_out - today).days <= cfg.replenish_days_before:
            context = {"product": product.name, "sku": sku}
            specs += _to_guides(
                f, ReminderKind.REPLENISH, f"l{line_id}", runs_out, _activity(f, now), context, product.material_id
            )
    return specs


def became_at_risk_on(f: CustomerFacts, cfg: ReminderSettings) -> dt.date | None:
    """The first day the customer counts as at churn risk, from their purchases alone."""
    if f.last_order_at is None:
        return None
    if f.repurchase_cycle_days:
        late_days = math.floor(float(cfg.churn_multiple) * f.repurchase_cycle_days)
    elif f.purchase_days == 1:
        late_days = cfg.churn_no_cycle_days
    else:
        return None
    return _day(f.last_order_at) + dt.timedelta(days=late_days + 1)


def rule_churn(f: CustomerFacts, cfg: ReminderSettings, now: dt.datetime) -> list[Spec]:
    today = timezone.localdate(now)
    since = became_at_risk_on(f, cfg)
    if since is None or not (0 <= (today - since).days < cfg.churn_new_days):
        return []
    context = {"last_order_on": _day(f.last_order_at).isoformat(), "cycle": f.repurchase_cycle_days}
    return _to_guides(f, ReminderKind.CHURN, since.isoformat(), since, _activity(f, now), context)


def next_birthday(birthday: dt.date, today: dt.date) -> dt.date:
    def in_year(year: int) -> dt.date:
        try:
            return birthday.replace(year=year)
        except ValueError:  # 29 Feb in a common year
            return dt.date(year, 2, 28)

    this_year = in_year(today.year)
    return this_year if this_year >= today else in_year(today.year + 1)


def rule_birthday(f: CustomerFacts, cfg: ReminderSettings, now: dt.datetime) -> list[Spec]:
    if f.birthday is None:
        return []
    today = timezone.localdate(now)
    day = next_birthday(f.birthday, today)
    if (day - today).days > cfg.birthday_window_days:
        return []
    return _to_guides(f, ReminderKind.BIRTHDAY, day.isoformat(), day, _activity(f, now), {})


def rule_deleted(f: CustomerFacts, cfg: ReminderSettings, now: dt.datetime) -> list[Spec]:
    vip = f.total_spend >= cfg.vip_spend
    return [
        Spec(
            kind=ReminderKind.DELETED,
            staff_id=staff_id,
            occurrence=f"r{relation_id}",
            due_on=_day(ended_at),
            trigger_at=ended_at,
            context={"vip": vip},
            urgent_at=ended_at if vip else None,
        )
        for relation_id, staff_id, ended_at in f.deletions
        if now - dt.timedelta(days=cfg.deleted_window_days) <= ended_at <= now
    ]


def rule_handover(f: CustomerFacts, cfg: ReminderSettings, now: dt.datetime) -> list[Spec]:
    return [
        Spec(
            kind=ReminderKind.HANDOVER,
            staff_id=staff_id,
            occurrence=f"e{event_id}",
            due_on=_day(at),
            trigger_at=at,
            context={"from": from_name},
        )
        for event_id, staff_id, at, from_name in f.transfers
        if staff_id in f.guides and now - dt.timedelta(days=cfg.handover_window_days) <= at <= now
    ]


def _cart_value(payload: dict) -> Decimal:
    try:
        if payload.get("amount") not in (None, ""):
            return Decimal(str(payload["amount"]))
        return Decimal(str(payload.get("price") or 0)) * int(payload.get("quantity") or 1)
    except (ArithmeticError, ValueError, TypeError):
        return Decimal("0")


def rule_intent(
    f: CustomerFacts, cfg: ReminderSettings, now: dt.datetime, products: dict[str, ProductInfo]
) -> list[Spec]:
    since = now - dt.timedelta(hours=cfg.intent_window_hours)
    events = sorted((e for e in f.intents if since <= e[1] <= now), key=lambda e: e[1])
    if not events or any(paid >= events[0][1] for paid in f.orders_paid_at):
        return []
    latest = events[-1]
    carts = [e for e in events if e[0] == EventKind.ADD_TO_CART]
    cart_value = sum((_cart_value(e[2]) for e in carts), Decimal("0"))
    product_sku = next((e[2].get("sku") for e in reversed(events) if e[2].get("sku")), "")
    product_name = next((e[2].get("name") or e[2].get("product") for e in reversed(events) if e[2].get("sku")), "")
    context = {
        "carts": len(carts),
        "views": sum(1 for e in events if e[0] == EventKind.MP_PRODUCT_VIEW),
        "visits": sum(1 for e in events if e[0] == EventKind.MP_VISIT),
        "cart_value": str(cart_value),
        "product": product_name or "",
        "sku": product_sku or "",
    }
    urgent_at = None
    if carts and cart_value >= cfg.urgent_cart_amount:
        urgent_at = carts[0][1] + dt.timedelta(minutes=cfg.urgent_cart_after_minutes)
    product = products.get(product_sku or "")
    material_id = product.material_id if product else None
    occurrence = _day(latest[1]).isoformat()
    strength = 1.0 if carts else 0.75 if context["views"] else 0.5  # a cart, a product looked at, a visit
    specs = _to_guides(f, ReminderKind.INTENT, occurrence, _day(latest[1]), latest[1], context, material_id, urgent_at)
    return [dataclasses.replace(spec, strength=strength) for spec in specs]


def _to_guides(
    f: CustomerFacts,
    kind: str,
    occurrence: str,
    due_on: dt.date,
    trigger_at: dt.datetime,
    context: dict,
    material_id: int | None = None,
    urgent_at: dt.datetime | None = None,
) -> list[Spec]:
    return [
        Spec(kind, staff_id, occurrence, due_on, trigger_at, context, material_id, urgent_at)
        for staff_id in sorted(set(f.guides))
    ]


def specs_for(
    f: CustomerFacts, *, cfg: ReminderSettings, now: dt.datetime, products: dict[str, ProductInfo]
) -> list[Spec]:
    """Every reminder this customer's facts call for at `now`."""
    return [
        *rule_follow_up(f, cfg, now),
        *rule_repurchase(f, cfg, now),
        *rule_replenish(f, cfg, now, products),
        *rule_churn(f, cfg, now),
        *rule_birthday(f, cfg, now),
        *rule_deleted(f, cfg, now),
        *rule_handover(f, cfg, now),
        *rule_intent(f, cfg, now, products),
    ]
