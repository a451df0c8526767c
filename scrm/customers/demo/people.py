"""One demo customer's whole life as plain rows: identities, guides, tags, notes, orders, timeline.

Everything a customer gets is drawn from its own random stream (seed, index), so customer 1234 is
the same whatever else is generated, and a batch can be generated, checked or skipped on its own.
Times are kept as "seconds before the anchor" (local midnight of the seed day) until the row is built.
"""

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from scrm.customers.demo import vocab
from scrm.customers.demo.base import Base, StaffRef
from scrm.customers.demo.writer import json_text
from scrm.customers.events import SCHEMA_VERSION, Channel, EventKind
from scrm.customers.models import Gender, IdentityKind, OrderStatus
from scrm.customers.selectors import age_on
from scrm.customers.services import Figures, figures_compute, phone_hash, phone_mask

DAY = 86400
HISTORY_DAYS = 540  # 18 months

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

# Kinds that fill a customer's timeline around the structural ones (relations, orders, tags, notes).
FILLER_WEIGHTS = [
    (EventKind.CHAT_MESSAGE, 40),
    (EventKind.MP_VISIT, 11),
    (EventKind.MP_PRODUCT_VIEW, 13),
    (EventKind.ADD_TO_CART, 5),
    (EventKind.OA_ARTICLE_READ, 8),
    (EventKind.FOLLOW_OA, 1),
    (EventKind.UNFOLLOW_OA, 0.4),
    (EventKind.STORE_VISIT, 4),
    (EventKind.MATERIAL_SENT, 6),
    (EventKind.COUPON_SENT, 3),
    (EventKind.TASK_DONE, 3),
    (EventKind.FRIEND_EDITED, 1.5),
    (EventKind.TAG_REMOVED, 1),
    (EventKind.TRANSFER_FAILED, 0.3),
    (EventKind.CUSTOMER_MERGED, 0.2),
]
FILLER_KINDS = [k for k, _ in FILLER_WEIGHTS]
FILLER_CUM = []
_total = 0.0
for _k, _w in FILLER_WEIGHTS:
    _total += _w
    FILLER_CUM.append(_total)
NEEDS_MP = {EventKind.MP_VISIT, EventKind.MP_PRODUCT_VIEW, EventKind.ADD_TO_CART}
NEEDS_OA = {EventKind.OA_ARTICLE_READ, EventKind.FOLLOW_OA, EventKind.UNFOLLOW_OA}
ONLINE = {Channel.MP, Channel.TMALL, Channel.JD, Channel.YOUZAN}
CHANNEL_LABEL = {
    Channel.POS: "门店",
    Channel.MP: "小程序",
    Channel.TMALL: "天猫",
    Channel.JD: "京东",
    Channel.YOUZAN: "有赞",
}
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
CENT = Decimal("0.01")


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


def _bij(seed: int, index: int, mult: int, mod: int) -> int:
    return (index * mult + seed * 31 + 17) % mod


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


@dataclass
class Relation:
    staff: StaffRef
    added: int  # seconds before anchor
    ended: int | None = None
    ended_by: str = ""
    add_way: int = 1
    state: str = ""


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


def daytime(rng: random.Random, day: int) -> int:
    """Seconds-before-anchor of a moment between 09:30 and 22:00 on the day `day` days ago (day ≥ 1)."""
    return day * DAY - rng.randint(9 * 3600 + 1800, 22 * 3600)


def _age_band(birthday: dt.date, today: dt.date) -> str:
    age = age_on(birthday, today)
    if age < 25:
        return "18-24岁"
    if age <= 30:
        return "25-30岁"
    return "31-40岁" if age <= 40 else "40岁以上"


def customer_generate(ctx: Context, index: int, customer_id: int, order_ids: list[int], plan: Plan, allowance: int):
    """All rows of one customer. `order_ids` holds exactly plan.orders reserved ids."""
    seed = ctx.seed
    rng = stream(seed, index, 3)
    rows = Rows()
    ext = external_userid(seed, index)

    # Who they are.
    roll = rng.random()
    gender = Gender.FEMALE if roll < 0.85 else (Gender.MALE if roll < 0.97 else Gender.UNKNOWN)
    surname = rng.choice(vocab.SURNAMES)
    given = rng.choice(vocab.MALE_GIVEN if gender == Gender.MALE else vocab.FEMALE_GIVEN)
    real_name = surname + given
    name = real_name if rng.random() < 0.55 else rng.choice(vocab.NICKNAMES)
    title = "先生" if gender == Gender.MALE else "女士"
    skin = rng.randrange(len(vocab.SKIN_REMARK))
    birthday = dt.date(rng.randint(1972, 2005), rng.randint(1, 12), rng.randint(1, 28)) if rng.random() < 0.45 else None
    store_code = rng.choices(ctx.store_codes, ctx.store_weights)[0]
    guides = ctx.base.guides[store_code]

    # Which channels know them. Every fourth customer is known everywhere, so every kind shows up
    # even in a small data set; some are known only through WeCom.
    full = index % 4 == 3
    only_wecom = index % 4 == 0 and rng.random() < 0.5
    has = {IdentityKind.WECOM}
    if full:
        has |= {IdentityKind.UNIONID, IdentityKind.MP_OPENID, IdentityKind.OA_OPENID, IdentityKind.PHONE}
        has |= {IdentityKind.TMALL}
        for kind, p in ((IdentityKind.JD, 0.5), (IdentityKind.YOUZAN, 0.5), (IdentityKind.POS_MEMBER, 0.7)):
            if rng.random() < p:
                has.add(kind)
    elif not only_wecom:
        if rng.random() < 0.6:
            has.add(IdentityKind.UNIONID)
            if rng.random() < 0.85:
                has.add(IdentityKind.MP_OPENID)
            if rng.random() < 0.5:
                has.add(IdentityKind.OA_OPENID)
        if rng.random() < 0.55:
            has.add(IdentityKind.PHONE)
        for kind, p in ((IdentityKind.TMALL, 0.2), (IdentityKind.JD, 0.1), (IdentityKind.YOUZAN, 0.08)):
            if rng.random() < p:
                has.add(kind)
        if rng.random() < 0.4:
            has |= {IdentityKind.POS_MEMBER, IdentityKind.PHONE}

    # Orders: a personal repurchase cycle; lapsed customers stopped long ago.
    k = plan.orders
    order_days: list[int] = []
    cycle = 0
    if k:
        cycle = {"loyal": rng.randint(25, 45), "lapsed": rng.randint(30, 75)}.get(plan.segment) or rng.randint(30, 90)
        if k > 1:
            cycle = max(7, min(cycle, 480 // (k - 1)))
        gaps = [max(5, round(cycle * rng.uniform(0.75, 1.3))) for _ in range(k - 1)]
        span = sum(gaps)
        if plan.segment == "lapsed":
            low = int(2.3 * cycle) + 1
            last = rng.randint(low, max(low, 530 - span))
        elif plan.segment == "oneoff":
            last = rng.randint(2, 480)
        else:
            last = rng.randint(1, max(1, int(1.6 * cycle)))
        last = max(1, min(last, 530 - span))
        order_days = [last + sum(gaps[j:]) for j in range(k)]  # oldest first

    # Joining a guide: usually before the first order; some bought online first.
    if k and rng.random() < 0.15 and order_days[0] > 3:
        join_day = rng.randint(2, order_days[0] - 1)
    elif k:
        join_day = min(HISTORY_DAYS - 1, order_days[0] + rng.randint(0, 30))
    else:
        join_day = 2 + int((HISTORY_DAYS - 4) * rng.random() ** 1.6)
    joined = daytime(rng, join_day)

    relations = _relations(ctx, rng, index, store_code, guides, join_day, joined)

    def serving(ago: int) -> Relation | None:
        for rel in relations:
            if rel.added >= ago and (rel.ended is None or rel.ended < ago):
                return rel
        return None

    known_since = max(joined, daytime(rng, order_days[0]) if order_days else 0)
    events: list[tuple] = []  # (ago, kind, channel, staff_id, title, payload)

    # Identities.
    identity_rows = []
    phone = phone_number(seed, index) if IdentityKind.PHONE in has else ""
    for kind in IdentityKind.values:
        if kind not in has:
            continue
        display = ""
        if kind == IdentityKind.WECOM:
            value, display = ext, name
        elif kind == IdentityKind.PHONE:
            value, display = phone_hash(phone), phone_mask(phone)
        elif kind in (IdentityKind.UNIONID, IdentityKind.MP_OPENID, IdentityKind.OA_OPENID):
            value = "o" + "".join(rng.choices(ALNUM, k=27))
        elif kind == IdentityKind.TMALL:
            value = f"tb{_bij(seed, index, 104729, 10**9):09d}"
            display = f"tb***{value[-4:]}"
        elif kind == IdentityKind.JD:
            value = f"jd_{_bij(seed, index, 130363, 10**10):010d}"
            display = f"jd_***{value[-4:]}"
        elif kind == IdentityKind.YOUZAN:
            value = f"yz{_bij(seed, index, 15485863, 10**10):010d}"
        else:
            value = f"LT{_bij(seed, index, 7919, 10**8):08d}"
            display = value
        identity_rows.append((customer_id, kind, value, display, ctx.at(known_since)))

    # Relation events.
    for n, rel in enumerate(relations):
        if rel.add_way == 202:
            previous = relations[n - 1].staff
            events.append(
                (
                    rel.added,
                    EventKind.TRANSFER,
                    Channel.WECOM,
                    rel.staff.id,
                    f"由{previous.name}转接给{rel.staff.name}",
                    {
                        "from_userid": previous.userid,
                        "to_userid": rel.staff.userid,
                        "reason": "离职继承" if previous.id == ctx.base.departed.id else "在职转接",
                    },
                )
            )
        else:
            label = vocab.STATE_LABEL.get(rel.state.rsplit("_", 1)[-1]) or vocab.STATE_LABEL.get(rel.state, "")
            how = f"扫描「{label}」活码" if label else "搜索手机号" if rel.add_way == 2 else "名片分享"
            events.append(
                (
                    rel.added,
                    EventKind.FRIEND_ADDED,
                    Channel.WECOM,
                    rel.staff.id,
                    f"通过{how}添加了导购{rel.staff.name}",
                    {"userid": rel.staff.userid, "add_way": rel.add_way, "state": rel.state},
                )
            )
        if rel.ended_by == "customer":
            events.append(
                (
                    rel.ended,
                    EventKind.FRIEND_DELETED_BY_CUSTOMER,
                    Channel.WECOM,
                    rel.staff.id,
                    f"客户删除了导购{rel.staff.name}",
                    {"userid": rel.staff.userid},
                )
            )
        elif rel.ended_by == "staff":
            events.append(
                (
                    rel.ended,
                    EventKind.FRIEND_DELETED_BY_STAFF,
                    Channel.WECOM,
                    rel.staff.id,
                    f"导购{rel.staff.name}删除了客户",
                    {"userid": rel.staff.userid},
                )
            )

    remark = f"{surname}{title}-{vocab.SKIN_REMARK[skin]}"
    description = rng.choice(vocab.DESCRIPTIONS) if rng.random() < 0.6 else ""
    for rel in relations:
        rows.relations.append(
            (
                rel.staff.id,
                customer_id,
                ext,
                remark,
                description,
                "[]",
                rel.add_way,
                rel.state,
                ctx.at(rel.added),
                ctx.at(rel.ended) if rel.ended is not None else None,
                rel.ended_by,
                ctx.at(rel.added),
                ctx.at(rel.ended if rel.ended is not None else rel.added),
            )
        )

    # Orders.
    channels = [Channel.POS]
    weights = [40]
    for kind, channel, weight in (
        (IdentityKind.MP_OPENID, Channel.MP, 30),
        (IdentityKind.TMALL, Channel.TMALL, 20),
        (IdentityKind.JD, Channel.JD, 10),
        (IdentityKind.YOUZAN, Channel.YOUZAN, 8),
    ):
        if kind in has:
            channels.append(channel)
            weights.append(weight)
    interest_lines = {"护肤", "彩妆", "香氛", "抗老", "美白淡斑", "防晒", "身体护理"}
    favourite = rng.sample(sorted(interest_lines), 2)
    figures_rows = []
    order_times = []
    for n, day in enumerate(order_days):
        order_id = order_ids[n]
        paid = daytime(rng, day)
        channel = rng.choices(channels, weights)[0]
        rel = serving(paid)
        staff = rel.staff if rel else None
        lines = []
        pool = [p for p in ctx.products if p[3] in favourite] if rng.random() < 0.7 else ctx.products
        for sku, pname, price, _line in rng.sample(pool, min(len(pool), rng.choices((1, 2, 3), (60, 30, 10))[0])):
            qty = 2 if rng.random() < 0.12 else 1
            lines.append((order_id, sku, pname, qty, price, price * qty))
        gross = sum(line[5] for line in lines)
        discount = Decimal("0")
        if gross >= 300 and rng.random() < 0.25:
            discount = Decimal(rng.choice((30, 50, 100)))
        amount = (gross - discount).quantize(CENT)
        refund_amount = Decimal("0.00")
        roll = rng.random()
        refund_days = rng.randint(2, 10)
        status = OrderStatus.COMPLETED
        if channel in ONLINE and day <= 2:
            status = OrderStatus.PAID if day <= 1 else OrderStatus.SHIPPED
        if day - refund_days >= 1 and roll < 0.09:
            if roll < 0.06 or len(lines) == 1:
                status, refund_amount = OrderStatus.REFUNDED, amount
            else:
                status, refund_amount = OrderStatus.PARTIALLY_REFUNDED, min(amount, lines[-1][5])
        order_no = _order_no(ctx, channel, store_code, index, n, day, paid, rng)
        rows.orders.append(
            (
                order_id,
                channel,
                order_no,
                customer_id,
                staff.store_id if staff else ctx.store_ids[store_code],
                staff.id if staff else None,
                ctx.at(paid),
                amount,
                refund_amount,
                status,
                ctx.at(paid),
                ctx.at(paid),
            )
        )
        rows.lines.extend(lines)
        figures_rows.append((ctx.at(paid), amount, refund_amount, status))
        order_times.append((paid, channel))
        items = [{"sku": sku, "name": nm, "quantity": q, "price": str(p)} for _o, sku, nm, q, p, _a in lines]
        first = lines[0][2] + (f" 等{len(lines)}件" if len(lines) > 1 else "")
        where = ctx.store_names[store_code] if channel == Channel.POS else CHANNEL_LABEL[channel]
        staff_id = staff.id if staff else None
        events.append(
            (
                paid,
                EventKind.ORDER_PAID,
                channel,
                staff_id,
                f"在{where}下单 ¥{amount}：{first}",
                {"order_no": order_no, "channel": channel, "amount": str(amount), "items": items},
            )
        )
        if channel in ONLINE and day >= 2:
            carrier, prefix = rng.choice(vocab.CARRIERS)
            waybill = f"{prefix}{rng.randint(10**11, 10**12 - 1)}"
            events.append(
                (
                    paid - rng.randint(6, 30) * 3600,
                    EventKind.ORDER_SHIPPED,
                    channel,
                    staff_id,
                    f"订单已发货：{carrier} {waybill}",
                    {"order_no": order_no, "carrier": carrier, "waybill": waybill},
                )
            )
        if refund_amount:
            reason = rng.choice(vocab.REFUND_REASONS)
            events.append(
                (
                    paid - refund_days * DAY,
                    EventKind.ORDER_REFUNDED,
                    channel,
                    staff_id,
                    f"退款 ¥{refund_amount}（{reason}）",
                    {"order_no": order_no, "refund_amount": str(refund_amount), "reason": reason},
                )
            )

    figures = figures_compute(
        orders=figures_rows, relations_ended_by=[rel.ended_by for rel in relations], today=ctx.today
    )

    # Tags, added by the first guide shortly after joining.
    first_rel = relations[0]
    chosen = [("兴趣", name_) for name_ in favourite[: rng.choice((1, 1, 2))]]
    for group, names, p in (
        ("肤质", ["干性肌", "油性肌", "混合肌", "敏感肌", "中性肌"], 0.7),
        ("来源渠道", dict(vocab.TAG_GROUPS)["来源渠道"], 0.6),
        ("年龄段", dict(vocab.TAG_GROUPS)["年龄段"], 0.35),
        ("消费偏好", dict(vocab.TAG_GROUPS)["消费偏好"], 0.3),
    ):
        if rng.random() < p:
            if group == "肤质":
                chosen.append((group, names[skin]))
            elif group == "年龄段" and birthday:
                chosen.append((group, _age_band(birthday, ctx.today)))  # agrees with the birthday shown
            else:
                chosen.append((group, rng.choice(names)))
    floor = (first_rel.ended or 0) + 1
    for group, tag_name in chosen:
        # Guides tag right after adding someone, or on a later day at the same hour.
        delta = rng.randint(60, 7200) if rng.random() < 0.7 else rng.randint(1, 30) * DAY
        ago = max(floor, first_rel.added - delta)
        rows.customer_tags.append(
            (customer_id, ctx.tag_ids[(group, tag_name)], first_rel.staff.id, "wecom", ctx.at(ago))
        )
        events.append(
            (
                ago,
                EventKind.TAG_ADDED,
                Channel.WECOM,
                first_rel.staff.id,
                f"{first_rel.staff.name}添加了标签「{tag_name}」",
                {"tag_id": ctx.tag_ids[(group, tag_name)], "tag_name": tag_name, "group": group},
            )
        )
    # Follow-up notes; the newest one carries the next contact date the guide works from.
    note_count = rng.choices((0, 1, 2, 3), (30, 35, 22, 13))[0] if k else rng.choices((0, 1), (65, 35))[0]
    note_times = sorted((_in_relation(rng, relations) for _ in range(note_count)), reverse=True)
    for n, (ago, rel) in enumerate(note_times):
        body = rng.choice(vocab.NOTE_BODIES)
        created = ctx.at(ago)
        if n == len(note_times) - 1:
            next_on = ctx.today + dt.timedelta(days=rng.randint(-7, 21))
            done = next_on < ctx.today and rng.random() < 0.5
        else:
            next_on = created.astimezone(ctx.anchor.tzinfo).date() + dt.timedelta(days=rng.randint(7, 30))
            done = True
        rows.notes.append((customer_id, rel.staff.id, body, next_on, done, created))
        events.append(
            (
                ago,
                EventKind.NOTE,
                Channel.WECOM,
                rel.staff.id,
                f"跟进记录：{body}",
                {"body": body, "next_contact_on": next_on.isoformat()},
            )
        )

    # Everything else, up to the allowance; the first filler kind rotates so every kind appears.
    extra = allowance - len(events)
    mp, oa = IdentityKind.MP_OPENID in has, IdentityKind.OA_OPENID in has
    first_kind = FILLER_KINDS[index // 4] if full and index // 4 < len(FILLER_KINDS) else None
    interest = favourite[0]
    while extra > 0:
        if first_kind:
            kind, first_kind = first_kind, None
        else:
            kind = FILLER_KINDS[_pick(rng.random() * FILLER_CUM[-1])]
        if kind in NEEDS_MP and not mp or kind in NEEDS_OA and not oa:
            kind = EventKind.CHAT_MESSAGE if rng.random() < 0.7 else EventKind.STORE_VISIT
        made = _filler(ctx, rng, kind, relations, known_since, order_times, name, remark, interest, store_code, extra)
        for item in made:
            events.append(item)
            if item[1] == EventKind.MATERIAL_SENT:
                rows.sends.append(
                    (
                        item[5]["material_id"],
                        item[3],
                        customer_id,
                        "sent",
                        "",
                        f"demo:{seed}:send:{index}:{len(events) - 1}",
                        ctx.at(item[0]),
                    )
                )
        extra -= len(made)

    prefix = f"demo:{seed}:evt:{index}:"
    for n, (ago, kind, channel, staff_id, title_, payload) in enumerate(events):
        when = ctx.at(max(1, ago))
        payload = {"schema": SCHEMA_VERSION, **payload}
        rows.events.append(
            (
                customer_id,
                kind,
                when,
                channel,
                staff_id,
                title_[:200],
                json_text(payload),
                SCHEMA_VERSION,
                f"{prefix}{n}",
                when,
            )
        )

    source = Channel.WECOM
    if order_days and order_days[0] > join_day:
        source = order_times[0][1]
    elif IdentityKind.POS_MEMBER in has and rng.random() < 0.3:
        source = Channel.POS
    rows.identities = identity_rows
    rows.customers.append(
        _customer_row(ctx, customer_id, name, gender, birthday, phone, store_code, source, figures, known_since)
    )
    return rows


def _customer_row(ctx, customer_id, name, gender, birthday, phone, store_code, source, figures: Figures, since):
    return (
        customer_id,
        name,
        "",
        gender,
        birthday,
        phone_hash(phone) if phone else "",
        phone_mask(phone) if phone else "",
        ctx.store_ids[store_code],
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


def _pick(x: float) -> int:
    for n, edge in enumerate(FILLER_CUM):
        if x < edge:
            return n
    return len(FILLER_CUM) - 1


def _relations(ctx, rng, index, store_code, guides, join_day, joined) -> list[Relation]:
    """1–2 guides: ~5% ended by the customer, some by staff, some handed over (history kept)."""
    scenario = index % 100
    primary, other = rng.sample(guides, 2)
    state = (
        f"store_{store_code}_{rng.choice(vocab.STATE_SUFFIXES)}"
        if rng.random() < 0.7
        else rng.choice(vocab.ONLINE_STATES)
    )
    add_way = rng.choices(ctx.add_way_values, ctx.add_way_weights)[0]
    if add_way != 1:
        state = state if rng.random() < 0.3 else ""
    first = Relation(primary, joined, add_way=add_way, state=state)
    if join_day < 4:
        return [first]
    mid = daytime(rng, rng.randint(1, join_day - 1))
    if scenario < 5:
        first.ended, first.ended_by = mid, "customer"
        return [first]
    if scenario == 5:
        first.ended, first.ended_by = mid, "staff"
        return [first]
    if scenario == 6:
        first.ended, first.ended_by = mid, "staff"
        again_day = max(1, (mid // DAY) - rng.randint(1, 20))
        return [first, Relation(other, min(mid - 1, daytime(rng, again_day)), add_way=2)]
    if scenario < 15:
        departed = ctx.base.departed
        if departed.store_code == store_code and join_day > vocab.DEPARTED_DAYS_AGO + 2:
            # The departed guide's customers were inherited a few days after she left.
            first.staff = departed
            mid = daytime(rng, vocab.DEPARTED_DAYS_AGO - rng.randint(1, 5))
        first.ended, first.ended_by = mid, "transfer"
        taker = other if other.id != first.staff.id else primary
        return [first, Relation(taker, mid - 1, add_way=202)]
    if scenario < 25:
        return [first, Relation(other, mid, add_way=rng.choice((1, 3)), state=state)]
    return [first]


def _in_relation(rng, relations: list[Relation]) -> tuple[int, Relation]:
    rel = rng.choice(relations)
    end = rel.ended if rel.ended is not None else 0
    day = rng.randint(max(1, end // DAY + 1), max(1, end // DAY + 1, rel.added // DAY))
    return min(rel.added, max(end + 1, daytime(rng, day))), rel


def _order_no(ctx, channel, store_code, index, n, day, paid, rng) -> str:
    when = ctx.at(paid).astimezone(ctx.anchor.tzinfo)
    if channel == Channel.POS:
        return f"P{store_code.upper()}{when:%y%m%d}{index:06d}{n:02d}"
    if channel == Channel.MP:
        return f"MP{when:%Y%m%d%H%M}{index:06d}{n:02d}"
    if channel == Channel.TMALL:
        return f"{when:%y%m%d}{index:07d}{n:02d}{rng.randint(100, 999)}"
    if channel == Channel.JD:
        return f"3{when:%y%m%d}{index:07d}{n:02d}"
    return f"E{when:%Y%m%d%H%M%S}{index:06d}{n:02d}"


def _filler(ctx, rng, kind, relations, known_since, order_times, name, remark, interest, store_code, budget):
    """One filler item, or a short chat session (several messages), as event tuples."""
    rel_ago, rel = _in_relation(rng, relations)
    staff = rel.staff
    if kind == EventKind.CHAT_MESSAGE:
        out = []
        ago = rel_ago
        end = rel.ended if rel.ended is not None else 0
        product = rng.choice(ctx.products)[1]
        if rng.random() < 0.6:
            question, answer = rng.choice(vocab.CHAT_PAIRS)
            talk = [("in", question), ("out", answer.format(product=product))]
            if rng.random() < 0.5:
                follow_q, follow_a = rng.choice(vocab.CHAT_PAIRS)
                talk += [("in", follow_q), ("out", follow_a.format(product=product))]
        else:
            opener = rng.choice(vocab.GUIDE_OPENERS).format(name=name, guide=staff.name, product=product)
            talk = [("out", opener)]
            if rng.random() < 0.7:
                talk.append(("in", rng.choice(vocab.CUSTOMER_REPLIES)))
        for direction, text in talk[:budget]:
            who = "客户" if direction == "in" else f"导购{staff.name}"
            out.append(
                (
                    ago,
                    EventKind.CHAT_MESSAGE,
                    Channel.WECOM,
                    staff.id,
                    f"{who}：{text}",
                    {"direction": direction, "msgtype": "text", "content": text, "userid": staff.userid},
                )
            )
            ago = max(end + 1, ago - rng.randint(20, 900))
        return out

    # Browsing happens any time they are known, often just before an order.
    if order_times and rng.random() < 0.4:
        ago = order_times[rng.randrange(len(order_times))][0] + rng.randint(600, 3 * DAY)
    else:
        ago = daytime(rng, rng.randint(1, max(1, known_since // DAY)))
    product = rng.choice([p for p in ctx.products if p[3] == interest] or ctx.products)
    if kind == EventKind.MP_VISIT:
        page = rng.choice(vocab.MP_PAGES)
        item = (Channel.MP, None, f"访问小程序「{page}」", {"page": page, "duration_s": rng.randint(8, 600)})
    elif kind == EventKind.MP_PRODUCT_VIEW:
        item = (
            Channel.MP,
            None,
            f"浏览商品 {product[1]}",
            {"sku": product[0], "name": product[1], "price": str(product[2])},
        )
    elif kind == EventKind.ADD_TO_CART:
        item = (Channel.MP, None, f"将 {product[1]} 加入购物车", {"sku": product[0], "name": product[1], "quantity": 1})
    elif kind == EventKind.OA_ARTICLE_READ:
        article = rng.choice(vocab.ARTICLES)
        item = (
            Channel.OA,
            None,
            f"阅读公众号文章《{article}》",
            {"article": article, "read_seconds": rng.randint(10, 400)},
        )
    elif kind == EventKind.FOLLOW_OA:
        item = (
            Channel.OA,
            None,
            f"关注了公众号「{vocab.BRAND}」",
            {"scene": rng.choice(("qrcode", "search", "article"))},
        )
    elif kind == EventKind.UNFOLLOW_OA:
        item = (Channel.OA, None, f"取消关注公众号「{vocab.BRAND}」", {})
    elif kind == EventKind.STORE_VISIT:
        purpose = rng.choice(("试妆", "皮肤检测", "取货", "参加会员日活动", "咨询"))
        item = (
            Channel.POS,
            None,
            f"到店（{ctx.store_names[store_code]}）{purpose}",
            {"store_code": store_code, "purpose": purpose},
        )
    elif kind == EventKind.MATERIAL_SENT and ctx.materials:
        ago = rel_ago
        material = rng.choice(ctx.materials)
        item = (
            Channel.WECOM,
            staff.id,
            f"{staff.name}发送了素材「{material.title}」",
            {"material_id": material.id, "material_kind": material.kind, "title": material.title},
        )
    elif kind == EventKind.COUPON_SENT:
        ago = rel_ago
        coupon, threshold, value = rng.choice(vocab.COUPONS)
        item = (
            Channel.WECOM,
            staff.id,
            f"{staff.name}发送了优惠券「{coupon}」",
            {
                "coupon": coupon,
                "threshold": threshold,
                "discount": value,
                "code": f"CP{rng.randint(10**9, 10**10 - 1)}",
            },
        )
    elif kind == EventKind.TASK_DONE:
        ago = rel_ago
        task = rng.choice(vocab.TASKS)
        item = (Channel.WECOM, staff.id, f"{staff.name}完成任务「{task}」", {"task": task})
    elif kind == EventKind.FRIEND_EDITED:
        ago = rel_ago
        item = (Channel.WECOM, staff.id, f"{staff.name}修改了备注为「{remark}」", {"remark": remark})
    elif kind == EventKind.TAG_REMOVED:
        ago = rel_ago
        tag = rng.choice(dict(vocab.TAG_GROUPS)["消费偏好"])
        item = (
            Channel.WECOM,
            staff.id,
            f"{staff.name}移除了标签「{tag}」",
            {"tag_id": ctx.tag_ids[("消费偏好", tag)], "tag_name": tag, "group": "消费偏好"},
        )
    elif kind == EventKind.TRANSFER_FAILED:
        ago = rel_ago
        item = (Channel.WECOM, staff.id, f"转接给导购{staff.name}失败：客户拒绝", {"reason": "customer_refused"})
    elif kind == EventKind.CUSTOMER_MERGED:
        item = (Channel.SYSTEM, None, "合并了重复的客户档案（同一手机号）", {"matched_by": "phone"})
    else:
        return _filler(
            ctx,
            rng,
            EventKind.CHAT_MESSAGE,
            relations,
            known_since,
            order_times,
            name,
            remark,
            interest,
            store_code,
            budget,
        )
    return [(ago, kind, *item)]
