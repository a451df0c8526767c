"""Writes from the brand's other systems (shops, mini program, official account, POS) via /api/v1/.

Every write here is idempotent: identities resolve to the same customer, an event is stored once
per source id, and re-sending an order changes nothing. Callers validate shapes (the REST
serializers); these services still refuse what would corrupt data, raising ValidationError with
a Chinese message keyed by field.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers.events import Channel, EventKind, event_record
from scrm.customers.identity import IdentityTuple, Resolution, customer_resolve_detail
from scrm.customers.models import Customer, Event, IdentityKind, OrderStatus
from scrm.customers.services import (
    phone_hash,
    phone_mask,
    phone_normalize,
)
from scrm.org.models import Staff, Store

# Which channel a customer first seen through an identity came from.
IDENTITY_CHANNEL = {
    IdentityKind.WECOM: Channel.WECOM,
    IdentityKind.OA_OPENID: Channel.OA,
    IdentityKind.MP_OPENID: Channel.MP,
    IdentityKind.TMALL: Channel.TMALL,
    IdentityKind.JD: Channel.JD,
    IdentityKind.YOUZAN: Channel.YOUZAN,
    IdentityKind.POS_MEMBER: Channel.POS,
}
# Kinds other systems may not post as plain events: orders have their own endpoint (so figures
# follow), merges are ours.
EVENT_KINDS_NOT_INGESTIBLE = {
    EventKind.ORDER_PAID,
    EventKind.ORDER_REFUNDED,
    EventKind.ORDER_SHIPPED,
    EventKind.CUSTOMER_MERGED,
}
# Payload keys that may hold a phone number: kept masked only, like everywhere else.
PHONE_PAYLOAD_KEYS = {"phone", "mobile", "tel", "telephone", "phone_number"}
# Orders never move back along this ladder: a late redelivery of an old state is ignored.
# OrderLine.amount has 12 digits, 2 after the point.
MAX_MONEY = Decimal("10000000000")
STATUS_RANK = {
    OrderStatus.PAID: 0,
    OrderStatus.SHIPPED: 1,
    OrderStatus.COMPLETED: 2,
    OrderStatus.PARTIALLY_REFUNDED: 3,
    OrderStatus.REFUNDED: 4,
}


def phone_valid(raw: str) -> bool:
    digits = phone_normalize(raw)
    return len(digits) == 11 and digits.startswith("1")


# Enum .values builds a new list on every access: a batch of 1,000 items asked it 2,000 times.
_IDENTITY_KINDS = frozenset(IdentityKind.values)


def identity_tuples(*, identities: dict[str, str]) -> list[IdentityTuple]:
    """(kind, value, display) rows for customer_resolve; phones become their keyed hash and mask."""
    rows: list[IdentityTuple] = []
    errors = {}
    for kind, raw in identities.items():
        value = (raw or "").strip()
        if not value:
            continue
        if kind not in _IDENTITY_KINDS:
            errors[kind] = _("未知的身份类型。")
        elif kind == IdentityKind.PHONE:
            if not phone_valid(value):
                errors[kind] = _("请填写 11 位中国大陆手机号。")
            else:
                rows.append((kind, phone_hash(value), phone_mask(value)))
        elif len(value) > 128:
            errors[kind] = _("标识最长 128 个字符。")
        else:
            rows.append((kind, value, ""))
    if errors:
        raise ValidationError({"identities": [ValidationError(f"{k}: {m}") for k, m in errors.items()]})
    if not rows:
        raise ValidationError({"identities": _("至少需要一个身份标识。")})
    return rows


def store_by_code(code: str, *, field_name: str = "store_code") -> Store | None:
    if not code:
        return None
    store = Store.objects.filter(code=code).first()
    if store is None:
        raise ValidationError({field_name: _("门店编码 %(code)s 不存在。") % {"code": code}})
    return store


def staff_by_userid(userid: str, *, field_name: str = "staff_userid") -> Staff | None:
    if not userid:
        return None
    staff = Staff.objects.filter(userid=userid).first()
    if staff is None:
        raise ValidationError({field_name: _("导购 userid %(userid)s 不存在。") % {"userid": userid}})
    return staff


def _clean_payload(payload):
    """Mask phone numbers under any phone-like key, at any depth (a payload is never stored with one in clear)."""
    if isinstance(payload, list):
        return [_clean_payload(item) for item in payload]
    if not isinstance(payload, dict):
        return payload if payload is not None else {}
    cleaned = {}
    for key, value in payload.items():
        if str(key).lower() in PHONE_PAYLOAD_KEYS and isinstance(value, str) and value:
            cleaned[key] = phone_mask(value)
        else:
            cleaned[key] = _clean_payload(value) if isinstance(value, dict | list) else value
    return cleaned


# --- customers ----------------------------------------------------------------------------------


@dataclass
class IdentifyResult:
    customer: Customer
    created: bool
    resolution: Resolution | None = None


def customer_upsert_from_api(
    *,
    identities: dict[str, str],
    name: str = "",
    gender: int | None = None,
    birthday: dt.date | None = None,
    store_code: str = "",
    channel: str = "",
    verified: set[str] | None = None,
    provenance: str = "",
) -> IdentifyResult:
    """Find (or create) the one customer behind `identities`, merging customers they prove are one.

    Profile fields only fill blanks: what a guide or WeCom already knows is not overwritten.
    """
    rows = identity_tuples(identities=identities)
    store = store_by_code(store_code)
    if not channel:
        channel = next((IDENTITY_CHANNEL[k] for k, _v, _d in rows if k in IDENTITY_CHANNEL), Channel.SYSTEM)
    defaults = {"name": (name or "").strip()[:100], "source": channel}
    if gender is not None:
        defaults["gender"] = gender
    if birthday is not None:
        defaults["birthday"] = birthday
    if store is not None:
        defaults["store"] = store
    phone = next(((value, display) for kind, value, display in rows if kind == IdentityKind.PHONE), None)
    if phone:
        defaults["phone_hash"], defaults["phone_masked"] = phone
    # customer_resolve also fills a known customer's blank phone: the portrait and admin search need it.
    resolution = customer_resolve_detail(
        identities=rows, defaults=defaults, verified=verified or set(), provenance=provenance, answer_only=True
    )
    return IdentifyResult(customer=resolution.customer, created=resolution.created, resolution=resolution)


# --- events -------------------------------------------------------------------------------------

# Default titles per kind; a placeholder missing from the payload falls back to the kind's label.
_TITLES = {
    EventKind.MP_VISIT: ("访问小程序「{page}」", ["page"]),
    EventKind.MP_PRODUCT_VIEW: ("浏览了 {product}", ["product", "name"]),
    EventKind.ADD_TO_CART: ("将 {product} 加入购物车", ["product", "name"]),
    EventKind.OA_ARTICLE_READ: ("阅读公众号文章《{article}》", ["article", "title"]),
    EventKind.FOLLOW_OA: ("关注了公众号「{account}」", ["account"]),
    EventKind.UNFOLLOW_OA: ("取消关注公众号「{account}」", ["account"]),
    EventKind.STORE_VISIT: ("到店（{store}）", ["store", "store_name", "store_code"]),
    EventKind.COUPON_SENT: ("发放优惠券「{coupon}」", ["coupon", "name"]),
    EventKind.TASK_DONE: ("完成任务「{task}」", ["task"]),
}


def event_default_title(*, kind: str, payload: dict, cache: dict | None = None) -> str:
    """The title of an event sent without one. `cache`: a dict kept across one batch's items, so each
    kind's template and label are translated once a batch, not once an item."""
    cache = {} if cache is None else cache
    template, keys = _TITLES.get(kind, ("", []))
    if template:
        value = next((str(payload[k]) for k in keys if payload.get(k) not in (None, "")), "")
        if value:
            if kind not in cache:
                cache[kind] = _(template)
            placeholder = template[template.index("{") + 1 : template.index("}")]
            return cache[kind].format(**{placeholder: value[:100]})
    label = ("label", kind)
    if label not in cache:
        cache[label] = str(EventKind(kind).label)
    return cache[label]


def event_dedupe_key(*, source: str, source_id: str) -> str:
    return f"api:{source}:{source_id}"


def events_known(*, source: str, source_ids: list[str]) -> dict[str, Event]:
    """The events already stored for these ids of `source`, by id (one query for a whole batch)."""
    keys = {event_dedupe_key(source=source, source_id=source_id): source_id for source_id in source_ids}
    found = Event.objects.filter(dedupe_key__in=list(keys)).only("id", "customer_id", "dedupe_key")
    return {keys[event.dedupe_key]: event for event in found}


def customers_live(*, customer_ids) -> dict[int, int]:
    """{id: the live customer it is now part of} for these ids (a batch's later item may have merged one)."""
    live = {pk: pk for pk in customer_ids}
    pending = set(live)
    while pending:
        moved = dict(
            Customer.objects.filter(pk__in=pending, merged_into__isnull=False).values_list("pk", "merged_into")
        )
        pending = set()
        for pk, target in live.items():
            if target in moved:
                live[pk] = moved[target]
                pending.add(moved[target])
    return live


# Customers resolved earlier in the same batch, by identity rows: a batch often holds a whole session
# of one customer's page views, and resolving the same identities again would find the same customer.
Resolved = dict[tuple[IdentityTuple, ...], tuple[Customer, int | None]]


@transaction.atomic
def event_ingest(
    *,
    source: str,
    source_id: str,
    kind: str,
    occurred_at: dt.datetime,
    channel: str,
    identities: dict[str, str],
    title: str = "",
    payload: dict | None = None,
    staff_userid: str = "",
    resolved: Resolved | None = None,
    verified: set[str] | None = None,
    provenance: str = "",
) -> tuple[Event, bool]:
    """Store one event from another system once per (source, source_id); (event, created).

    A batch passes the same `resolved` dict to every item (and drops it if an item fails).
    """
    dedupe_key = event_dedupe_key(source=source, source_id=source_id)
    if len(dedupe_key) > 200:
        raise ValidationError({"id": _("来源和 id 合计过长。")})
    existing = Event.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        # A redelivery: nothing is resolved or created again.
        return existing, False
    if kind not in EventKind.values:
        raise ValidationError({"kind": _("未知的事件类型 %(kind)s。") % {"kind": kind}})
    if kind in EVENT_KINDS_NOT_INGESTIBLE:
        raise ValidationError({"kind": _("订单事件请通过 PUT /api/v1/orders/<渠道>/<订单号> 上报。")})
    if channel not in Channel.values:
        raise ValidationError({"channel": _("未知的渠道 %(channel)s。") % {"channel": channel}})
    if timezone.is_naive(occurred_at):
        raise ValidationError({"occurred_at": _("时间必须带时区，例如 2026-11-01T08:00:00+08:00。")})
    staff = staff_by_userid(staff_userid)
    rows = identity_tuples(identities=identities)
    payload = _clean_payload(payload)
    known_as = tuple(sorted(rows))
    customer, via = resolved.get(known_as, (None, None)) if resolved is not None else (None, None)
    if customer is None:
        resolution = customer_resolve_detail(
            identities=rows, defaults={"source": channel}, verified=verified or set(), provenance=provenance
        )
        customer, via = resolution.customer, resolution.via_identity_id
        if resolved:
            # This resolution may have merged a customer resolved earlier into another one.
            earlier = {c.pk for c, _via in resolved.values()}
            if Customer.objects.filter(pk__in=earlier, merged_into__isnull=False).exists():
                resolved.clear()
        if resolved is not None:
            resolved[known_as] = (customer, via)
    return event_record(
        customer=customer,
        kind=kind,
        occurred_at=occurred_at,
        channel=channel,
        title=(title or "").strip() or event_default_title(kind=kind, payload=payload),
        dedupe_key=dedupe_key,
        staff=staff,
        # Under their own keys: the sender's payload may well have a "source" of its own.
        payload={**payload, "api_source": source, "api_id": source_id},
        via_identity_id=via,
    )


# --- orders -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineData:
    name: str
    unit_price: Decimal
    quantity: int = 1
    sku: str = ""
    amount: Decimal | None = None

    def row(self) -> tuple:
        amount = self.amount if self.amount is not None else self.unit_price * self.quantity
        return (self.sku, self.name, self.quantity, Decimal(self.unit_price).quantize(Decimal("0.01")), amount)


def _money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class OrderData:
    """One order as another system reports it (already shape-checked)."""

    paid_at: dt.datetime
    amount: Decimal
    status: str = OrderStatus.PAID
    refund_amount: Decimal | None = None
    store_code: str = ""
    staff_userid: str = ""
    lines: tuple[LineData, ...] = ()
    shipped_at: dt.datetime | None = None
    carrier: str = ""
    waybill: str = ""
    refunded_at: dt.datetime | None = None
    refund_reason: str = ""


def _refund_error(status: str, amount: Decimal, refund_amount: Decimal) -> tuple[str, str] | None:
    """(field, message) when the refund and the status disagree, else None."""
    if refund_amount < 0 or refund_amount > amount:
        return "refund_amount", _("退款金额必须在 0 和实付金额之间。")
    if status == OrderStatus.REFUNDED and refund_amount != amount:
        # The figures drop a refunded order whole: its refund must be the whole amount.
        return "refund_amount", _("全额退款（refunded）时退款金额应等于实付金额；部分退款请用 partially_refunded。")
    if status == OrderStatus.PARTIALLY_REFUNDED and not 0 < refund_amount < amount:
        return "refund_amount", _("部分退款（partially_refunded）时退款金额应大于 0 且小于实付金额。")
    if refund_amount > 0 and status not in (OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED):
        return "status", _("有退款金额时，状态应为 partially_refunded 或 refunded。")
    return None


def _order_amounts(data: OrderData) -> tuple[Decimal, Decimal, list[tuple]]:
    """(amount, refund_amount, line rows) as stored: cents, and a refunded order's refund defaulting to all."""
    amount = _money(data.amount)
    refund_amount = data.refund_amount
    if refund_amount is None:
        refund_amount = amount if data.status == OrderStatus.REFUNDED else Decimal("0.00")
    return amount, _money(refund_amount), [line.row() for line in data.lines]


def _order_errors(*, channel: str, order_no: str, data: OrderData) -> dict[str, str]:
    """Every domain rule the order breaks, by field ({} when none). The one place they are checked:
    the API's serializers check shapes only."""
    errors = {}
    if channel not in Channel.values or channel in (Channel.WECOM, Channel.SYSTEM):
        errors["channel"] = _("未知的订单渠道 %(channel)s。") % {"channel": channel}
    if not order_no.strip() or len(order_no) > 64:
        errors["order_no"] = _("订单号不能为空，最长 64 个字符。")
    elif "\x00" in order_no:
        errors["order_no"] = _("订单号不能包含 NUL 字符。")
    if data.status not in OrderStatus.values:
        errors["status"] = _("未知的订单状态 %(status)s。") % {"status": data.status}
    for name in ("paid_at", "shipped_at", "refunded_at"):
        value = getattr(data, name)
        if value is not None and timezone.is_naive(value):
            errors[name] = _("时间必须带时区，例如 2026-11-01T08:00:00+08:00。")
    amount, refund_amount, line_rows = _order_amounts(data)
    if amount < 0:
        errors["amount"] = _("金额不能为负数。")
    refund_error = _refund_error(data.status, amount, refund_amount)
    if refund_error:
        errors.setdefault(*refund_error)  # an unknown status is the first thing to fix
    if any(not 0 <= row[4] < MAX_MONEY for row in line_rows):
        # 单价×数量 can exceed the column (12 digits): PostgreSQL would refuse it with a 500.
        errors["lines"] = _("商品小计必须在 0 到 9999999999.99 之间。")
    return errors


def order_checked(*, channel: str, order_no: str, data: OrderData) -> tuple[Decimal, Decimal, list[tuple]]:
    """(amount, refund_amount, line rows) as stored, or ValidationError naming every broken rule."""
    errors = _order_errors(channel=channel, order_no=order_no, data=data)
    if errors:
        raise ValidationError(errors)
    return _order_amounts(data)
