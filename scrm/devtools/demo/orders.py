"""A demo customer's orders: when (a personal repurchase cycle), where, what, refunds, shipping."""

import random
from dataclasses import dataclass, field
from decimal import Decimal

from scrm.customers.events import Channel, EventKind
from scrm.customers.models import IdentityKind, OrderStatus
from scrm.devtools.demo import vocab
from scrm.devtools.demo.clock import DAY, HISTORY_DAYS, daytime
from scrm.devtools.demo.person import Person
from scrm.devtools.demo.relations import Relation, serving

ONLINE = {Channel.MP, Channel.TMALL, Channel.JD, Channel.YOUZAN}
CHANNEL_LABEL = {
    Channel.POS: "门店",
    Channel.MP: "小程序",
    Channel.TMALL: "天猫",
    Channel.JD: "京东",
    Channel.YOUZAN: "有赞",
}
CHANNEL_WEIGHTS = [
    (IdentityKind.MP_OPENID, Channel.MP, 30),
    (IdentityKind.TMALL, Channel.TMALL, 20),
    (IdentityKind.JD, Channel.JD, 10),
    (IdentityKind.YOUZAN, Channel.YOUZAN, 8),
]
CENT = Decimal("0.01")


def order_days_draw(rng: random.Random, *, segment: str, count: int) -> list[int]:
    """Days ago of each order, oldest first: a personal cycle; lapsed customers stopped long ago."""
    if not count:
        return []
    cycle = {"loyal": rng.randint(25, 45), "lapsed": rng.randint(30, 75)}.get(segment) or rng.randint(30, 90)
    if count > 1:
        cycle = max(7, min(cycle, 480 // (count - 1)))
    gaps = [max(5, round(cycle * rng.uniform(0.75, 1.3))) for _ in range(count - 1)]
    span = sum(gaps)
    if segment == "lapsed":
        low = int(2.3 * cycle) + 1
        last = rng.randint(low, max(low, 530 - span))
    elif segment == "oneoff":
        last = rng.randint(2, 480)
    else:
        last = rng.randint(1, max(1, int(1.6 * cycle)))
    last = max(1, min(last, 530 - span))
    return [last + sum(gaps[j:]) for j in range(count)]


def join_day_draw(rng: random.Random, order_days: list[int]) -> int:
    """Joining a guide: usually around the first order; some bought online first."""
    if order_days and rng.random() < 0.15 and order_days[0] > 3:
        return rng.randint(2, order_days[0] - 1)
    if order_days:
        return min(HISTORY_DAYS - 1, order_days[0] + rng.randint(0, 30))
    return 2 + int((HISTORY_DAYS - 4) * rng.random() ** 1.6)


@dataclass
class Orders:
    rows: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    events: list = field(default_factory=list)
    figures: list = field(default_factory=list)  # (paid_at, amount, refund_amount, status) for figures_compute
    times: list = field(default_factory=list)  # (seconds ago, channel)


def orders_generate(ctx, rng, *, person: Person, relations: list[Relation], order_days, order_ids, index, customer_id):
    channels, weights = [Channel.POS], [40]
    for kind, channel, weight in CHANNEL_WEIGHTS:
        if kind in person.has:
            channels.append(channel)
            weights.append(weight)
    out = Orders()
    for n, day in enumerate(order_days):
        paid = daytime(rng, day)
        channel = rng.choices(channels, weights)[0]
        rel = serving(relations, paid)
        staff = rel.staff if rel else None
        lines = _lines_draw(ctx, rng, order_id=order_ids[n], favourite=person.favourite)
        amount = sum(line[5] for line in lines)
        status, refund_amount, refund_days = _status_draw(rng, channel=channel, day=day, lines=lines, amount=amount)
        order_no = _order_no(ctx, channel, person.store_code, index, n, paid, rng)
        store_id = staff.store_id if staff else ctx.store_ids[person.store_code]
        staff_id = staff.id if staff else None
        at = ctx.at(paid)
        out.rows.append(
            (
                order_ids[n],
                channel,
                order_no,
                customer_id,
                store_id,
                staff_id,
                at,
                amount,
                refund_amount,
                status,
                at,
                at,
            )
        )
        out.lines.extend(lines)
        out.figures.append((at, amount, refund_amount, status))
        out.times.append((paid, channel))
        where = ctx.store_names[person.store_code] if channel == Channel.POS else CHANNEL_LABEL[channel]
        out.events.extend(
            _order_events(
                rng, paid=paid, channel=channel, staff_id=staff_id, order_no=order_no, where=where, lines=lines,
                amount=amount, refund_amount=refund_amount, refund_days=refund_days, day=day,
            )
        )  # fmt: skip
    return out


def _lines_draw(ctx, rng: random.Random, *, order_id: int, favourite: list[str]) -> list[tuple]:
    """(order_id, sku, name, quantity, unit_price, amount); a discount is spread over the lines, so an
    order's total is always the sum of its lines."""
    pool = [p for p in ctx.products if p[3] in favourite] if rng.random() < 0.7 else ctx.products
    picked = rng.sample(pool, min(len(pool), rng.choices((1, 2, 3), (60, 30, 10))[0]))
    quantities = [2 if rng.random() < 0.12 else 1 for _ in picked]
    gross = sum(price * qty for (_sku, _name, price, _line), qty in zip(picked, quantities, strict=True))
    discount = Decimal(rng.choice((30, 50, 100))) if gross >= 300 and rng.random() < 0.25 else Decimal("0")
    lines, left = [], discount
    for n, ((sku, name, price, _line), qty) in enumerate(zip(picked, quantities, strict=True)):
        full = price * qty
        share = left if n == len(picked) - 1 else (discount * full / gross).quantize(CENT)
        left -= share
        lines.append((order_id, sku, name, qty, price, (full - share).quantize(CENT)))
    return lines


def _status_draw(rng: random.Random, *, channel, day: int, lines: list, amount: Decimal):
    roll = rng.random()
    refund_days = rng.randint(2, 10)
    status, refund_amount = OrderStatus.COMPLETED, Decimal("0.00")
    if channel in ONLINE and day <= 2:
        status = OrderStatus.PAID if day <= 1 else OrderStatus.SHIPPED
    if day - refund_days >= 1 and roll < 0.09:
        if roll < 0.06 or len(lines) == 1:
            status, refund_amount = OrderStatus.REFUNDED, amount
        else:
            status, refund_amount = OrderStatus.PARTIALLY_REFUNDED, min(amount, lines[-1][5])
    return status, refund_amount, refund_days


def _order_events(rng, *, paid, channel, staff_id, order_no, where, lines, amount, refund_amount, refund_days, day):
    items = [{"sku": sku, "name": nm, "quantity": q, "price": str(p)} for _o, sku, nm, q, p, _a in lines]
    first = lines[0][2] + (f" 等{len(lines)}件" if len(lines) > 1 else "")
    payload = {"order_no": order_no, "channel": channel, "amount": str(amount), "items": items}
    events = [(paid, EventKind.ORDER_PAID, channel, staff_id, f"在{where}下单 ¥{amount}：{first}", payload)]
    if channel in ONLINE and day >= 2:
        carrier, prefix = rng.choice(vocab.CARRIERS)
        waybill = f"{prefix}{rng.randint(10**11, 10**12 - 1)}"
        payload = {"order_no": order_no, "carrier": carrier, "waybill": waybill}
        shipped = paid - rng.randint(6, 30) * 3600
        events.append(
            (shipped, EventKind.ORDER_SHIPPED, channel, staff_id, f"订单已发货：{carrier} {waybill}", payload)
        )
    if refund_amount:
        reason = rng.choice(vocab.REFUND_REASONS)
        payload = {"order_no": order_no, "refund_amount": str(refund_amount), "reason": reason}
        title = f"退款 ¥{refund_amount}（{reason}）"
        events.append((paid - refund_days * DAY, EventKind.ORDER_REFUNDED, channel, staff_id, title, payload))
    return events


def _order_no(ctx, channel, store_code, index, n, paid, rng) -> str:
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
