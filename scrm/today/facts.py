"""Reads the facts the rules need for a batch of customers, in a fixed number of queries."""

import datetime as dt
from collections import defaultdict

from django.db.models import Max
from django.utils import timezone

from scrm.customers.events import EventKind
from scrm.customers.models import Customer, Event, FollowRelation, Note, Order, OrderLine, OrderStatus
from scrm.customers.services import figures_compute
from scrm.org.models import Staff
from scrm.products.models import Product
from scrm.today.models import ReminderSettings
from scrm.today.rules import INTENT_KINDS, CustomerFacts, ProductInfo


def products_load() -> dict[str, ProductInfo]:
    return {
        sku: ProductInfo(name=name, usage_days=usage_days or 0, material_id=material_id)
        for sku, name, usage_days, material_id in Product.objects.values_list(
            "sku", "name", "usage_days", "material_id"
        )
    }


def facts_load(*, customer_ids: list[int], now: dt.datetime, cfg: ReminderSettings) -> dict[int, CustomerFacts]:
    """CustomerFacts of the (unmerged) customers among customer_ids."""
    today = timezone.localdate(now)
    facts = {
        pk: CustomerFacts(customer_id=pk, birthday=birthday)
        for pk, birthday in Customer.objects.filter(pk__in=customer_ids, merged_into__isnull=True).values_list(
            "pk", "birthday"
        )
    }
    ids = list(facts)
    _load_orders(facts, ids, today)
    _load_relations(facts, ids, now)
    for note_id, customer_id, staff_id, due, body in Note.objects.filter(
        customer_id__in=ids, done=False, next_contact_on__lte=today
    ).values_list("pk", "customer_id", "staff_id", "next_contact_on", "body"):
        facts[customer_id].notes.append((note_id, staff_id, due, body))
    skus = [sku for sku, usage in Product.objects.values_list("sku", "usage_days") if usage]
    for line_id, customer_id, sku, quantity, paid_at in (
        OrderLine.objects.filter(order__customer_id__in=ids, sku__in=skus, order__paid_at__lte=now)
        .exclude(order__status=OrderStatus.REFUNDED)
        .values_list("pk", "order__customer_id", "sku", "quantity", "order__paid_at")
    ):
        facts[customer_id].lines.append((line_id, sku, quantity, paid_at))
    _load_events(facts, ids, now, cfg)
    return facts


def _load_orders(facts: dict[int, CustomerFacts], ids: list[int], today: dt.date) -> None:
    orders: dict[int, list] = defaultdict(list)
    for customer_id, *row in Order.objects.filter(customer_id__in=ids, paid_at__date__lte=today).values_list(
        "customer_id", "paid_at", "amount", "refund_amount", "status"
    ):
        orders[customer_id].append(tuple(row))
    for customer_id, rows in orders.items():
        # The same computation as the stored figures, from the orders themselves: no race with their refresh.
        figures = figures_compute(orders=rows, relations_ended_by=[], today=today)
        f = facts[customer_id]
        f.total_spend, f.last_order_at = figures.total_spend, figures.last_order_at
        f.repurchase_cycle_days, f.next_expected_on = figures.repurchase_cycle_days, figures.next_expected_on
        kept = [r for r in rows if r[3] != OrderStatus.REFUNDED]
        f.purchase_days = len({timezone.localdate(r[0]) for r in kept})
        f.orders_paid_at = [r[0] for r in kept]


def _load_relations(facts: dict[int, CustomerFacts], ids: list[int], now: dt.datetime) -> None:
    for rel_id, customer_id, staff_id, ended_at, ended_by in FollowRelation.objects.filter(
        customer_id__in=ids, staff__is_active=True
    ).values_list("pk", "customer_id", "staff_id", "ended_at", "ended_by"):
        f = facts[customer_id]
        if ended_at is None or ended_at > now:
            f.guides.append(staff_id)
        elif ended_by == FollowRelation.EndedBy.CUSTOMER:
            f.deletions.append((rel_id, staff_id, ended_at))


def _load_events(facts: dict[int, CustomerFacts], ids: list[int], now: dt.datetime, cfg: ReminderSettings) -> None:
    events = Event.objects.filter(customer_id__in=ids, occurred_at__lte=now)
    for customer_id, last in (
        events.filter(staff__isnull=True)
        .values("customer_id")
        .annotate(last=Max("occurred_at"))
        .values_list("customer_id", "last")
    ):
        facts[customer_id].last_activity_at = last
    since = now - dt.timedelta(hours=cfg.intent_window_hours)
    for customer_id, kind, at, payload in events.filter(kind__in=INTENT_KINDS, occurred_at__gte=since).values_list(
        "customer_id", "kind", "occurred_at", "payload"
    ):
        facts[customer_id].intents.append((kind, at, payload or {}))
    transfers = list(
        events.filter(
            kind=EventKind.TRANSFER,
            staff__isnull=False,
            occurred_at__gte=now - dt.timedelta(days=cfg.handover_window_days),
        ).values_list("pk", "customer_id", "staff_id", "occurred_at", "payload")
    )
    userids = {(p or {}).get("from_userid") for *_x, p in transfers} - {None}
    names = dict(Staff.objects.filter(userid__in=userids).values_list("userid", "name")) if userids else {}
    for event_id, customer_id, staff_id, at, payload in transfers:
        from_userid = (payload or {}).get("from_userid", "")
        facts[customer_id].transfers.append((event_id, staff_id, at, names.get(from_userid, from_userid)))
