"""Reads of 渠道活码: which codes a staff member manages, the store-code page, and what each code is worth."""

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from scrm.customers.events import STATE_LABELS
from scrm.customers.models import Customer, FollowRelation, LifecycleStage, Order
from scrm.livecodes.models import ChannelGroup, LiveCode, LiveCodeAdd
from scrm.org.models import Staff, Store

DELETED_WITHIN = dt.timedelta(days=7)
FIRST_ORDER_WITHIN = dt.timedelta(days=30)
GMV_WINDOWS = (30, 90, 180)
CHURNED_STAGES = (LifecycleStage.DORMANT, LifecycleStage.LOST)


def livecode_source_label(*, state: str) -> str:
    """'门店柜台 · 静安店收银台' for the code behind `state` (deleted ones too: the add stays theirs)."""
    code = LiveCode.objects.filter(state=state).only("name", "channel_group").first()
    return code.source_label if code else ""


def state_source_label(state: str) -> str:
    """The readable source of a 活码 state: '门店柜台 · 静安店收银台' for a code made in the console.

    A state no console code has (made in WeCom's admin before this product, or the demo's) is named
    like the timeline names it: store codes by their last part ('store_sh001_event' → '门店活动'),
    others whole, from scrm.customers.events.STATE_LABELS; an unknown one is shown as is.
    """
    if not state:
        return ""
    return (
        livecode_source_label(state=state)
        or STATE_LABELS.get(state)
        or STATE_LABELS.get(state.rsplit("_", 1)[-1])
        or state
    )


def livecodes_for(*, staff: Staff) -> QuerySet[LiveCode]:
    """Codes `staff` may see and edit: admins all, managers their store's."""
    codes = LiveCode.objects.filter(deleted_at__isnull=True).select_related("store")
    if staff.role == Staff.Role.ADMIN:
        return codes
    if staff.role == Staff.Role.MANAGER and staff.store_id:
        return codes.filter(store_id=staff.store_id)
    return codes.none()


# --- the store-code page ----------------------------------------------------------------------


@dataclass
class StoreCode:
    store: Store
    code: LiveCode
    distance_km: float | None = None


def _haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def store_codes_nearest(*, lat: float | None = None, lng: float | None = None) -> list[StoreCode]:
    """One code per store (its 门店柜台 code first, else its newest), nearest first when the customer's
    position is known, else by store code. Stores without coordinates come last."""
    codes = (
        LiveCode.objects.filter(deleted_at__isnull=True, store__isnull=False)
        .exclude(qr_code="")
        .select_related("store")
        .order_by("store_id", "-created_at")
    )
    best: dict[int, LiveCode] = {}
    for code in codes:
        held = best.get(code.store_id)
        if held is None or (code.channel_group == ChannelGroup.COUNTER and held.channel_group != ChannelGroup.COUNTER):
            best[code.store_id] = code
    rows = [StoreCode(store=c.store, code=c) for c in best.values()]
    if lat is not None and lng is not None:
        for row in rows:
            if row.store.latitude is not None and row.store.longitude is not None:
                row.distance_km = _haversine_km(lat, lng, float(row.store.latitude), float(row.store.longitude))
        rows.sort(key=lambda r: (r.distance_km is None, r.distance_km or 0, r.store.code))
    else:
        rows.sort(key=lambda r: r.store.code)
    return rows


# --- what each code is worth ------------------------------------------------------------------


@dataclass
class Worth:
    """Figures of the customers added through one code / guide / channel group in a period.

    adds: adds in the period; deleted_7d: of them, relations that ended (customer or guide deleted)
    within 7 days of the add; net = adds - deleted_7d; first_order_30d: added customers with an order
    paid within 30 days of the add; gmv_N: paid minus refunded of their orders within N days of the
    add (any channel: orders of the merged person); repurchase_rate: of those who bought within 180
    days, the share who bought twice or more; churned: added customers now lost (they deleted the
    guide, or their lifecycle is dormant / lost, or they carry a churn risk); churn_rate = churned / adds.
    """

    key: object
    label: str
    adds: int = 0
    deleted_7d: int = 0
    first_order_30d: int = 0
    buyers_180: int = 0
    repeat_buyers_180: int = 0
    churned: int = 0
    gmv: dict[int, Decimal] = field(default_factory=lambda: {n: Decimal("0") for n in GMV_WINDOWS})
    per_day: dict[dt.date, int] = field(default_factory=dict)

    @property
    def net(self) -> int:
        return self.adds - self.deleted_7d

    @property
    def gmv_30(self) -> Decimal:
        return self.gmv[30]

    @property
    def gmv_90(self) -> Decimal:
        return self.gmv[90]

    @property
    def gmv_180(self) -> Decimal:
        return self.gmv[180]

    @property
    def repurchase_rate(self) -> float | None:
        return self.repeat_buyers_180 / self.buyers_180 if self.buyers_180 else None

    @property
    def churn_rate(self) -> float | None:
        return self.churned / self.adds if self.adds else None


GROUPINGS = ("code", "guide", "channel")


def livecode_worth(
    *, codes: QuerySet[LiveCode], start: dt.date, end: dt.date, by: str = "code", now: dt.datetime | None = None
) -> list[Worth]:
    """Worth rows for adds through `codes` whose local add day is in [start, end], grouped `by`."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS}")
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    adds = list(
        LiveCodeAdd.objects.filter(code__in=codes, added_at__gte=since, added_at__lt=until)
        .select_related("code", "staff", "relation__customer")
        .order_by("added_at", "id")
    )
    # The person behind each add: a merged customer's orders live on the customer kept.
    person = {a.pk: a.relation.customer.merged_into_id or a.relation.customer_id for a in adds}
    people = {c.pk: c for c in Customer.objects.filter(pk__in=set(person.values()))}
    orders: dict[int, list[Order]] = defaultdict(list)
    if adds:
        horizon = until + dt.timedelta(days=max(GMV_WINDOWS))
        for order in Order.objects.filter(
            customer_id__in=set(person.values()), paid_at__gte=since, paid_at__lt=horizon
        ):
            orders[order.customer_id].append(order)
    deleted_by_customer = set(
        FollowRelation.objects.filter(
            pk__in=[a.relation_id for a in adds], ended_by=FollowRelation.EndedBy.CUSTOMER
        ).values_list("pk", flat=True)
    )

    rows: dict[object, Worth] = {}
    for add in adds:
        if by == "code":
            key, label = add.code_id, add.code.source_label
        elif by == "guide":
            key, label = add.staff_id, add.staff.name
        else:
            key, label = add.code.channel_group, add.code.get_channel_group_display()
        row = rows.setdefault(key, Worth(key=key, label=str(label)))
        row.adds += 1
        day = timezone.localdate(add.added_at)
        row.per_day[day] = row.per_day.get(day, 0) + 1
        relation = add.relation
        if (
            relation.ended_at is not None
            and relation.ended_by != FollowRelation.EndedBy.TRANSFER
            and relation.ended_at - add.added_at <= DELETED_WITHIN
        ):
            row.deleted_7d += 1
        customer_id = person[add.pk]
        mine = [o for o in orders.get(customer_id, []) if o.paid_at >= add.added_at]
        if any(o.paid_at - add.added_at <= FIRST_ORDER_WITHIN for o in mine):
            row.first_order_30d += 1
        for days in GMV_WINDOWS:
            window = dt.timedelta(days=days)
            row.gmv[days] += sum(
                (o.amount - o.refund_amount for o in mine if o.paid_at - add.added_at < window), Decimal("0")
            )
        within = [o for o in mine if o.paid_at - add.added_at < dt.timedelta(days=180)]
        if within:
            row.buyers_180 += 1
            if len(within) >= 2:
                row.repeat_buyers_180 += 1
        customer = people.get(customer_id)
        if relation.pk in deleted_by_customer or (
            customer is not None and (customer.churn_risk or customer.lifecycle_stage in CHURNED_STAGES)
        ):
            row.churned += 1
    return sorted(rows.values(), key=lambda r: (-r.adds, r.label))
