"""A segment's filter spec (a JSON object) → the customers it selects.

Every key is optional and keys combine with AND. The console's filter form (scrm.segments.forms)
writes specs; this module only reads them, so a saved segment means the same thing tomorrow:

    stages: [lifecycle stage, …]           churn_risk: true | false
    tags_any: [tag id, …]                  tags_all: [tag id, …]
    guide: staff id (serving now)          store: store id (the customer's store)
    state: 活码 state of a current follow relation
    first_order_from / first_order_to / last_order_from / last_order_to: "YYYY-MM-DD" (local days)
    spend_min / spend_max: "123.45"        orders_min / orders_max: int
    overdue_repurchase: true               birthday_month: 1–12
    channels_has / channels_lacks: [IdentityKind value or "wecom_friend", …]
    events: [{"kind": EventKind, "hours": int, "no_order_since": bool}, …]
"""

import datetime as dt
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from scrm.customers.models import Customer, CustomerTag, Event, FollowRelation, Identity, Order

# A current WeCom friendship (an active follow relation), as opposed to an identity once seen.
WECOM_FRIEND = "wecom_friend"


def _active_relations(**filters) -> QuerySet[FollowRelation]:
    return FollowRelation.objects.filter(customer=OuterRef("pk"), ended_at__isnull=True, **filters)


def _channel_q(channel: str) -> Q:
    if channel == WECOM_FRIEND:
        return Q(Exists(_active_relations()))
    return Q(Exists(Identity.objects.filter(customer=OuterRef("pk"), kind=channel)))


def _event_q(condition: dict, now: dt.datetime) -> Q:
    """Customers with an event of `kind` in the last `hours`; with no_order_since, only when no order
    was paid after that event (the cart left behind)."""
    events = Event.objects.filter(
        customer=OuterRef("pk"), kind=condition["kind"], occurred_at__gte=now - dt.timedelta(hours=condition["hours"])
    )
    if condition.get("no_order_since"):
        later_orders = Order.objects.filter(customer=OuterRef(OuterRef("pk")), paid_at__gte=OuterRef("occurred_at"))
        events = events.filter(~Exists(later_orders))
    return Q(Exists(events))


def _day(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _range_q(spec: dict, now: dt.datetime) -> Q:
    q = Q()
    for key, lookup in (
        ("first_order_from", "first_order_at__date__gte"),
        ("first_order_to", "first_order_at__date__lte"),
        ("last_order_from", "last_order_at__date__gte"),
        ("last_order_to", "last_order_at__date__lte"),
    ):
        if spec.get(key):
            q &= Q(**{lookup: _day(spec[key])})
    for key, lookup in (("spend_min", "total_spend__gte"), ("spend_max", "total_spend__lte")):
        if spec.get(key) not in (None, ""):
            q &= Q(**{lookup: Decimal(str(spec[key]))})
    for key, lookup in (("orders_min", "order_count__gte"), ("orders_max", "order_count__lte")):
        if spec.get(key) not in (None, ""):
            q &= Q(**{lookup: int(spec[key])})
    if spec.get("overdue_repurchase"):
        q &= Q(next_expected_on__lt=timezone.localdate(now))
    if spec.get("birthday_month"):
        q &= Q(birthday__month=int(spec["birthday_month"]))
    return q


def spec_q(spec: dict, *, now: dt.datetime | None = None) -> Q:
    """The spec as one Q over Customer."""
    now = now or timezone.now()
    q = _range_q(spec, now)
    if spec.get("stages"):
        q &= Q(lifecycle_stage__in=spec["stages"])
    if spec.get("churn_risk") is not None:
        q &= Q(churn_risk=bool(spec["churn_risk"]))
    if spec.get("tags_any"):
        q &= Q(Exists(CustomerTag.objects.filter(customer=OuterRef("pk"), tag_id__in=spec["tags_any"])))
    for tag_id in spec.get("tags_all") or []:
        q &= Q(Exists(CustomerTag.objects.filter(customer=OuterRef("pk"), tag_id=tag_id)))
    if spec.get("guide"):
        q &= Q(Exists(_active_relations(staff_id=spec["guide"])))
    if spec.get("store"):
        q &= Q(store_id=spec["store"])
    if spec.get("state"):
        q &= Q(Exists(_active_relations(state=spec["state"])))
    for channel in spec.get("channels_has") or []:
        q &= _channel_q(channel)
    for channel in spec.get("channels_lacks") or []:
        q &= ~_channel_q(channel)
    for condition in spec.get("events") or []:
        q &= _event_q(condition, now)
    return q


def customers_matching(
    *, spec: dict, base: QuerySet[Customer] | None = None, now: dt.datetime | None = None
) -> QuerySet[Customer]:
    """Customers (merged-away rows never) that the spec selects, within `base` when given."""
    base = base if base is not None else Customer.objects.all()
    return base.filter(merged_into__isnull=True).filter(spec_q(spec, now=now))
