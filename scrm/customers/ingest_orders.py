"""Orders from the brand's shops and POS (PUT /api/v1/orders/…, POST /api/v1/orders): create or update one
order idempotently, with its timeline events and the guide it is attributed to. The order's rules are
checked in scrm.customers.ingest (order_checked)."""

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers.events import Channel, EventKind, event_record
from scrm.customers.identity import customer_resolve_detail
from scrm.customers.ingest import STATUS_RANK, OrderData, identity_tuples, order_checked, staff_by_userid, store_by_code
from scrm.customers.models import Customer, Event, FollowRelation, Order, OrderLine, OrderStatus
from scrm.customers.services import customer_figures_refresh_later
from scrm.org.models import Staff, Store


@dataclass
class OrderUpsertResult:
    order: Order
    created: bool
    changed: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    # Customers the order was taken from because its identities now name someone else.
    moved_from: list[int] = field(default_factory=list)

    @property
    def result(self) -> str:
        if self.created:
            return "created"
        return "updated" if self.changed or self.events else "unchanged"


def order_attributed_staff(*, customer: Customer, paid_at: dt.datetime, store: Store | None) -> Staff | None:
    """The guide who served the customer when they paid: same-store guides first, then the earliest."""
    relations = list(
        FollowRelation.objects.filter(customer=customer, added_at__lte=paid_at)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=paid_at))
        .select_related("staff")
        .order_by("added_at", "id")
    )
    if store is not None:
        relations = [r for r in relations if r.staff.store_id == store.pk] or relations
    return relations[0].staff if relations else None


def _order_title(order: Order, lines: list[tuple]) -> str:
    where = order.store.name if order.store_id else str(Channel(order.channel).label)
    title = _("在%(where)s下单 ¥%(amount)s") % {"where": where, "amount": order.amount}
    if not lines:
        return title
    first = lines[0][1] + (_(" 等%(n)d件") % {"n": len(lines)} if len(lines) > 1 else "")
    return f"{title}：{first}"


def order_upsert(
    *, channel: str, order_no: str, identities: dict[str, str], data: OrderData, provenance: str = ""
) -> OrderUpsertResult:
    """Create or update one order and append its timeline events once each.

    - order_paid once; order_shipped once when it ships; order_refunded once per refunded total.
    - Status never moves back (paid → shipped → completed → refunded), refunds never shrink:
      a late redelivery of an older state changes nothing.
    - Attribution: the given staff userid, else the customer's guide at paid_at; a resend without
      a userid keeps it (a later hand-over never takes an order away).
    - Identities are required to create an order; an update without them keeps the buyer.
    - The customer's figures are recomputed after commit.
    """
    amount, refund_amount, line_rows = order_checked(channel=channel, order_no=order_no, data=data)
    store = store_by_code(data.store_code)
    staff = staff_by_userid(data.staff_userid)
    rows = identity_tuples(identities=identities) if any((v or "").strip() for v in identities.values()) else []

    for attempt in range(2):
        try:
            with transaction.atomic():
                result = _order_upsert_once(
                    channel=channel,
                    order_no=order_no,
                    rows=rows,
                    data=data,
                    amount=amount,
                    refund_amount=refund_amount,
                    store=store,
                    staff=staff,
                    line_rows=line_rows,
                    provenance=provenance,
                )
                if result.created or result.changed or result.events:
                    ids = (result.order.customer_id, *result.moved_from)
                    customer_figures_refresh_later(customer_ids=ids)
                return result
        except IntegrityError:
            # A concurrent first delivery of the same order created it; the retry updates it.
            if attempt:
                raise
    raise AssertionError("unreachable")


_FK_FIELDS = ("customer", "store", "staff")


def _order_upsert_once(
    *, channel, order_no, rows, data: OrderData, amount, refund_amount, store, staff, line_rows, provenance
) -> OrderUpsertResult:
    # Resolve first: a merge it causes moves this order, and the row read below already shows that.
    defaults = {"source": channel, "store": store}
    resolution = customer_resolve_detail(identities=rows, defaults=defaults, provenance=provenance) if rows else None
    customer = resolution.customer if resolution else None
    via = resolution.via_identity_id if resolution else None
    order = Order.objects.select_for_update().filter(channel=channel, order_no=order_no).first()
    if order is None and customer is None:
        raise ValidationError({"identities": _("新订单至少需要一个身份标识。")})

    if order is None:
        staff = staff or order_attributed_staff(customer=customer, paid_at=data.paid_at, store=store)
        order = Order.objects.create(
            channel=channel,
            order_no=order_no,
            customer=customer,
            store=store or (staff.store if staff else None),
            staff=staff,
            paid_at=data.paid_at,
            amount=amount,
            refund_amount=refund_amount,
            status=data.status,
            via_identity_id=via,
        )
        _lines_write(order, line_rows)
        result = OrderUpsertResult(order=order, created=True)
        stored_lines = line_rows
    else:
        result = OrderUpsertResult(order=order, created=False)
        updates = {"paid_at": data.paid_at, "amount": amount}
        if customer is not None:
            updates["customer"] = customer
            if order.via_identity_id != via:
                # Bookkeeping, not news: the response's `changed` does not list it.
                order.via_identity_id = via
                Order.objects.filter(pk=order.pk).update(via_identity_id=via)
        if STATUS_RANK[data.status] >= STATUS_RANK[order.status]:
            updates["status"] = data.status
        if refund_amount > order.refund_amount:
            updates["refund_amount"] = refund_amount
        if max(refund_amount, order.refund_amount) > amount:
            raise ValidationError(
                {"amount": _("实付金额不能小于已退款金额 ¥%(refund)s。") % {"refund": order.refund_amount}}
            )
        if store is not None:
            updates["store"] = store
        if staff is not None:
            updates["staff"] = staff
        for name, value in updates.items():
            current = getattr(order, f"{name}_id") if name in _FK_FIELDS else getattr(order, name)
            if current != (value.pk if name in _FK_FIELDS else value):
                if name == "customer":
                    # The identities now name someone else as the buyer: the order's events follow.
                    result.moved_from.append(order.customer_id)
                    _order_events_of(order).update(customer=value)
                setattr(order, name, value)
                result.changed.append(name)
        if result.changed:
            order.save(update_fields=[*result.changed, "updated_at"])
        stored_lines = [(li.sku, li.name, li.quantity, li.unit_price, li.amount) for li in order.lines.order_by("id")]
        if line_rows and line_rows != stored_lines:
            order.lines.all().delete()
            _lines_write(order, line_rows)
            result.changed.append("lines")
            stored_lines = line_rows
    _order_events(order=order, lines=stored_lines, data=data, result=result)
    return result


def _lines_write(order: Order, line_rows: list[tuple]) -> None:
    OrderLine.objects.bulk_create(
        OrderLine(order=order, sku=sku, name=name, quantity=qty, unit_price=price, amount=amount)
        for sku, name, qty, price, amount in line_rows
    )


def _order_key_base(order: Order) -> str:
    return f"order:{order.channel}:{order.order_no}:"


def _order_events_of(order: Order):
    """This order's timeline events. Order numbers may hold ':', so the prefix alone would also
    match order 'A:1' for order 'A'; the anchored suffix rules that out. An order's events always
    belong to the order's customer (they move together), so the (customer, kind) index finds them
    without a LIKE index on dedupe_key."""
    base = _order_key_base(order)
    kinds = [EventKind.ORDER_PAID, EventKind.ORDER_SHIPPED, EventKind.ORDER_REFUNDED]
    events = Event.objects.filter(customer_id=order.customer_id, kind__in=kinds)
    return events.filter(dedupe_key__startswith=base).filter(
        dedupe_key__regex=rf"^{re.escape(base)}(paid|shipped|refunded:[0-9]+\.[0-9]+)$"
    )


def _order_events(*, order: Order, lines: list[tuple], data: OrderData, result: OrderUpsertResult) -> None:
    base = _order_key_base(order)
    common = {"order_no": order.order_no, "channel": order.channel}
    items = [{"sku": sku, "name": name, "quantity": qty, "price": str(price)} for sku, name, qty, price, _a in lines]
    wanted = [
        (
            EventKind.ORDER_PAID,
            order.paid_at,
            _order_title(order, lines),
            f"{base}paid",
            {**common, "amount": str(order.amount), "items": items},
        )
    ]
    if order.status == OrderStatus.SHIPPED or data.shipped_at:
        title = _("订单已发货")
        if data.carrier or data.waybill:
            title = f"{title}：{data.carrier} {data.waybill}".strip()
        shipped = {**common, "carrier": data.carrier, "waybill": data.waybill}
        wanted.append((EventKind.ORDER_SHIPPED, data.shipped_at or timezone.now(), title, f"{base}shipped", shipped))
    if order.refund_amount > 0:
        full = order.refund_amount >= order.amount
        title = (_("全额退款 ¥%(amount)s") if full else _("部分退款 ¥%(amount)s")) % {"amount": order.refund_amount}
        if data.refund_reason:
            title = f"{title}（{data.refund_reason}）"
        refunded = {**common, "refund_amount": str(order.refund_amount), "reason": data.refund_reason}
        # One event per refunded total: a second, larger refund is news, a resend is not.
        key = f"{base}refunded:{order.refund_amount}"
        wanted.append((EventKind.ORDER_REFUNDED, data.refunded_at or timezone.now(), title, key, refunded))
    for kind, occurred_at, title, key, payload in wanted:
        _event, created = event_record(
            customer=order.customer,
            kind=kind,
            occurred_at=occurred_at,
            channel=order.channel,
            title=title,
            dedupe_key=key,
            staff=order.staff,
            payload=payload,
            via_identity_id=order.via_identity_id,
        )
        if created:
            result.events.append(kind)
