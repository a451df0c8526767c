"""One demo customer's whole life as plain rows: identities, guides, tags, notes, orders, timeline.

Everything a customer gets is drawn from its own random stream (seed, index), so customer 1234 is
the same whatever else is generated, and a batch can be generated, checked or skipped on its own.
Times are kept as "seconds before the anchor" (local midnight of the seed day) until the row is built.
Each section of a life has its module: person, relations, orders, touches (tags, notes, birthdays), filler.
"""

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from scrm.customers.events import SCHEMA_VERSION, Channel, EventKind
from scrm.customers.models import IdentityKind
from scrm.customers.services import Figures, figures_compute, phone_hash, phone_mask
from scrm.devtools.demo import vocab
from scrm.devtools.demo.base import Base
from scrm.devtools.demo.clock import DAY
from scrm.devtools.demo.filler import FILLER_KINDS, Filler, material_sent_item
from scrm.devtools.demo.orders import join_day_draw, order_days_draw, orders_generate
from scrm.devtools.demo.person import ALNUM, Person, identity_rows, person_draw
from scrm.devtools.demo.relations import relation_events, relation_rows, relations_draw
from scrm.devtools.demo.touches import Touches, birthdays_generate, notes_generate, tags_generate
from scrm.devtools.demo.writer import json_text

CUSTOMER_FIELDS = [
    "id", "name", "avatar", "gender", "birthday", "phone_hash", "phone_masked", "store_id", "source",
    "lifecycle_stage", "order_count", "refund_count", "total_spend", "avg_order_value", "first_order_at",
    "last_order_at", "repurchase_cycle_days", "next_expected_on", "churn_risk", "churn_reason",
    "figures_updated_at", "created_at", "updated_at",
]  # fmt: skip
IDENTITY_FIELDS = ["customer_id", "kind", "value", "display", "created_at"]
RELATION_FIELDS = [
    "staff_id", "customer_id", "external_userid", "remark", "description", "remark_mobiles", "add_way", "state",
    "added_at", "ended_at", "ended_by", "created_at", "updated_at",
]  # fmt: skip
CUSTOMER_TAG_FIELDS = ["customer_id", "tag_id", "added_by_id", "source", "created_at"]
NOTE_FIELDS = ["customer_id", "staff_id", "body", "next_contact_on", "done", "created_at"]
ORDER_FIELDS = [
    "id", "channel", "order_no", "customer_id", "store_id", "staff_id", "paid_at", "amount", "refund_amount",
    "status", "created_at", "updated_at",
]  # fmt: skip
LINE_FIELDS = ["order_id", "sku", "name", "quantity", "unit_price", "amount"]
EVENT_FIELDS = [
    "customer_id", "kind", "occurred_at", "channel", "staff_id", "title", "payload", "schema", "dedupe_key",
    "created_at",
]  # fmt: skip
SEND_FIELDS = ["material_id", "staff_id", "customer_id", "status", "error", "request_id", "sent_at"]

SEGMENTS = [("prospect", 20), ("oneoff", 22), ("regular", 38), ("loyal", 12), ("lapsed", 8)]
ORDERS_PER_CUSTOMER = 3


def stream(seed: int, index: int, salt: int) -> random.Random:
    # Distinct (seed, index, salt) triples give distinct integer seeds for any index below 140k×7.
    return random.Random(seed * 1_000_003 + index * 7 + salt)


def external_userid(seed: int, index: int) -> str:
    """The customer's WeCom external_userid, the natural key a re-run looks demo customers up by."""
    rng = stream(seed, index, 0)
    return "wm" + "".join(rng.choices(ALNUM[:62], k=26))


def phone_number(seed: int, index: int) -> str:
    """A unique mainland mobile number: the 8-digit tail is a bijection of the index."""
    rng = stream(seed, index, 1)
    tail = (index * 7919 + seed * 104729 + 12345678) % 100_000_000
    return f"{rng.choice(vocab.PHONE_PREFIXES)}{tail:08d}"


@dataclass
class Plan:
    segment: str
    orders: int
    activity: float


def plan_all(*, seed: int, customers: int, events: int) -> tuple[list[Plan], list[int]]:
    """Segments and order counts (≈ 3 per customer in total), and each customer's event allowance.

    Cheap enough to run for every customer on every run, so allowances never depend on which
    customers already exist.
    """
    names = [s for s, _ in SEGMENTS]
    weights = [w for _, w in SEGMENTS]
    plans = []
    for i in range(customers):
        rng = stream(seed, i, 2)
        segment = rng.choices(names, weights)[0]
        low, high = {"prospect": (0, 0), "oneoff": (1, 1), "regular": (2, 5), "loyal": (5, 12), "lapsed": (2, 4)}[
            segment
        ]
        orders = rng.randint(low, high)
        plans.append(Plan(segment, orders, rng.random()))

    diff = ORDERS_PER_CUSTOMER * customers - sum(p.orders for p in plans)
    eligible = [p for p in plans if p.segment in ("regular", "loyal")] or [p for p in plans if p.orders] or plans
    step = 1 if diff > 0 else -1
    n = 0
    guard = 0
    while diff and guard < 50 * len(eligible):
        plan = eligible[n % len(eligible)]
        if step > 0 and plan.orders < 24 or step < 0 and plan.orders > 2:
            plan.orders += step
            diff -= step
        n += 1
        guard += 1

    weights = [3 + 2 * p.orders + 6 * p.activity for p in plans]
    total = sum(weights) or 1.0
    exact = [events * w / total for w in weights]
    allowance = [int(x) for x in exact]
    left = events - sum(allowance)
    by_fraction = sorted(range(customers), key=lambda i: (allowance[i] - exact[i], i))
    for i in by_fraction[:left]:
        allowance[i] += 1
    return plans, allowance


@dataclass
class Rows:
    customers: list = field(default_factory=list)
    identities: list = field(default_factory=list)
    relations: list = field(default_factory=list)
    customer_tags: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    orders: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    events: list = field(default_factory=list)
    sends: list = field(default_factory=list)


class Context:
    """What every customer of one run shares: the anchor, the brand's base rows, precomputed choices."""

    def __init__(self, *, seed: int, base: Base, anchor: dt.datetime, now: dt.datetime):
        self.seed = seed
        self.base = base
        self.anchor = anchor  # aware, local midnight of the seed day
        self.today = anchor.date()
        self.now = now
        self.store_codes = [s[0] for s in vocab.STORES]
        self.store_weights = [s[4] for s in vocab.STORES]
        self.store_ids = {code: store.pk for code, store in base.stores.items()}
        self.store_names = {code: store.name for code, store in base.stores.items()}
        self.products = [(sku, name, Decimal(price), line) for sku, name, price, line in vocab.PRODUCTS]
        self.add_way_values = [w for w, _ in vocab.ADD_WAYS]
        self.add_way_weights = [w for _, w in vocab.ADD_WAYS]
        self.tag_ids = {(t.group, t.name): t.id for group in base.tags.values() for t in group}
        self.materials = base.materials

    def at(self, ago: int) -> dt.datetime:
        return self.anchor - dt.timedelta(seconds=ago)


def customer_generate(ctx: Context, index: int, customer_id: int, order_ids: list[int], plan: Plan, allowance: int):
    """All rows of one customer. `order_ids` holds exactly plan.orders reserved ids."""
    rng = stream(ctx.seed, index, 3)
    ext = external_userid(ctx.seed, index)
    person = person_draw(ctx, rng, index, lambda: phone_number(ctx.seed, index))
    order_days = order_days_draw(rng, segment=plan.segment, count=plan.orders)
    join_day = join_day_draw(rng, order_days)
    relations = relations_draw(ctx, rng, index=index, store_code=person.store_code, join_day=join_day)
    joined = relations[0].added
    first_order_day_start = order_days[0] * DAY - 9 * 3600 - 1800 if order_days else 0  # 09:30, before any order
    known_since = max(joined, first_order_day_start)

    rows = Rows()
    rows.identities = identity_rows(
        person=person, rng=rng, seed=ctx.seed, index=index, ext=ext, customer_id=customer_id, since=ctx.at(known_since)
    )
    description = rng.choice(vocab.DESCRIPTIONS) if rng.random() < 0.6 else ""
    rows.relations = relation_rows(
        ctx, relations=relations, customer_id=customer_id, ext=ext, remark=person.remark, description=description
    )
    orders = orders_generate(
        ctx, rng, person=person, relations=relations, order_days=order_days, order_ids=order_ids, index=index,
        customer_id=customer_id,
    )  # fmt: skip
    rows.orders, rows.lines = orders.rows, orders.lines
    touches = Touches()
    tags_generate(ctx, rng, person=person, relations=relations, customer_id=customer_id, out=touches)
    notes_generate(
        ctx, rng, person=person, relations=relations, has_orders=bool(order_days), customer_id=customer_id, out=touches
    )
    birthdays_generate(ctx, rng, person=person, relations=relations, out=touches)
    rows.customer_tags, rows.notes = touches.tags, touches.notes

    events = relation_events(ctx, relations) + orders.events + touches.events
    filler = Filler(ctx, rng, person=person, relations=relations, known_since=known_since, order_times=orders.times)
    first_kind = FILLER_KINDS[index // 4] if person.full and index // 4 < len(FILLER_KINDS) else None
    events += filler.generate(budget=allowance - len(events) - len(touches.sends), first_kind=first_kind)
    for ago, material, staff in touches.sends + filler.sends:
        events.append((ago, EventKind.MATERIAL_SENT, Channel.WECOM, staff.id, *material_sent_item(staff, material)))
        send_key = f"demo:{ctx.seed}:send:{index}:{len(rows.sends)}"
        rows.sends.append((material.id, staff.id, customer_id, "sent", "", send_key, ctx.at(ago)))
    rows.events = _event_rows(ctx, events, customer_id=customer_id, prefix=f"demo:{ctx.seed}:evt:{index}:")

    figures = figures_compute(
        orders=orders.figures, relations_ended_by=[rel.ended_by for rel in relations], today=ctx.today
    )
    source = _source(rng, person=person, order_days=order_days, join_day=join_day, order_times=orders.times)
    rows.customers.append(_customer_row(ctx, customer_id, person, source, figures, known_since))
    return rows


def _event_rows(ctx: Context, events: list[tuple], *, customer_id: int, prefix: str) -> list[tuple]:
    rows = []
    for n, (ago, kind, channel, staff_id, title, payload) in enumerate(events):
        when = ctx.at(max(1, ago))
        payload = json_text({"schema": SCHEMA_VERSION, **payload})
        rows.append(
            (customer_id, kind, when, channel, staff_id, title[:200], payload, SCHEMA_VERSION, f"{prefix}{n}", when)
        )
    return rows


def _source(rng, *, person: Person, order_days, join_day, order_times) -> str:
    """Where the person first appeared: an order before joining a guide, the POS, or WeCom."""
    if order_days and order_days[0] > join_day:
        return order_times[0][1]
    if IdentityKind.POS_MEMBER in person.has and rng.random() < 0.3:
        return Channel.POS
    return Channel.WECOM


def _customer_row(ctx, customer_id, person: Person, source, figures: Figures, since):
    phone = person.phone
    return (
        customer_id,
        person.name,
        "",
        person.gender,
        person.birthday,
        phone_hash(phone) if phone else "",
        phone_mask(phone) if phone else "",
        ctx.store_ids[person.store_code],
        source,
        figures.lifecycle_stage,
        figures.order_count,
        figures.refund_count,
        figures.total_spend,
        figures.avg_order_value,
        figures.first_order_at,
        figures.last_order_at,
        figures.repurchase_cycle_days,
        figures.next_expected_on,
        figures.churn_risk,
        figures.churn_reason,
        ctx.now,
        ctx.at(since),
        ctx.now,
    )
