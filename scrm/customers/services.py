"""Writes to the customer domain. Views, tasks and commands call these; none write models directly."""

import datetime as dt
import hashlib
import hmac
import itertools
import logging
import re
import statistics
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers import events, signals
from scrm.customers.models import (
    Customer,
    CustomerTag,
    FollowRelation,
    LifecycleStage,
    Note,
    Order,
    OrderStatus,
    Tag,
)
from scrm.org.models import Staff

logger = logging.getLogger(__name__)

_PHONE_DIGITS = re.compile(r"\D+")


def phone_normalize(raw: str) -> str:
    """Mainland mobile numbers in their 11-digit form; '+86 138-0013-8000' → '13800138000'."""
    digits = _PHONE_DIGITS.sub("", raw or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def phone_hash(raw: str) -> str:
    return hmac.new(settings.PHONE_HASH_KEY.encode(), phone_normalize(raw).encode(), hashlib.sha256).hexdigest()


def phone_mask(raw: str) -> str:
    digits = phone_normalize(raw)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


@dataclass(frozen=True)
class Figures:
    order_count: int
    refund_count: int
    total_spend: Decimal
    avg_order_value: Decimal
    first_order_at: dt.datetime | None
    last_order_at: dt.datetime | None
    repurchase_cycle_days: int | None
    next_expected_on: dt.date | None
    lifecycle_stage: str
    churn_risk: bool
    churn_reason: str


# A customer is dormant once they are this many cycles late, or this many days with no cycle known.
LATE_CYCLES = 2
NO_CYCLE_DORMANT_DAYS = 180
LOYAL_ORDERS = 5  # purchase days, like the repurchase cycle


def figures_compute(
    *, orders: list[tuple[dt.datetime, Decimal, Decimal, str]], relations_ended_by: list[str], today: dt.date
) -> Figures:
    """Pure computation from (paid_at, amount, refund_amount, status) rows and the follow relations.

    relations_ended_by holds each relation's ended_by ('' while active).
    """
    kept = sorted((o for o in orders if o[3] != OrderStatus.REFUNDED), key=lambda o: o[0])
    refund_count = sum(1 for o in orders if o[3] in (OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED))
    count = len(kept)
    spend = sum((o[1] - o[2] for o in kept), Decimal("0.00"))
    aov = (spend / count).quantize(Decimal("0.01")) if count else Decimal("0.00")
    first_at = kept[0][0] if kept else None
    last_at = kept[-1][0] if kept else None
    cycle = None
    # Purchase days, not orders: orders split on the same day (one basket, two shops) are one visit.
    days = sorted({timezone.localdate(o[0]) for o in kept})
    if len(days) >= 2:
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        cycle = max(1, round(statistics.median(gaps)))
    next_on = timezone.localdate(last_at) + dt.timedelta(days=cycle) if cycle else None
    since = (today - timezone.localdate(last_at)).days if last_at else None

    deleted = bool(relations_ended_by) and all(relations_ended_by) and "customer" in relations_ended_by
    churn_reason = ""
    if deleted:
        churn_reason = "已删除好友"
    elif cycle and since is not None and since > LATE_CYCLES * cycle:
        churn_reason = f"超过平均回购周期 {LATE_CYCLES} 倍未购买"
    elif len(days) == 1 and since is not None and since > NO_CYCLE_DORMANT_DAYS:
        churn_reason = f"首单后超过 {NO_CYCLE_DORMANT_DAYS} 天未复购"

    if deleted:
        stage = LifecycleStage.LOST
    elif count == 0:
        stage = LifecycleStage.PROSPECT
    elif churn_reason:
        stage = LifecycleStage.DORMANT
    elif len(days) >= LOYAL_ORDERS:
        stage = LifecycleStage.LOYAL
    elif len(days) >= 2:
        stage = LifecycleStage.REPEAT
    else:
        stage = LifecycleStage.NEW
    return Figures(
        order_count=count,
        refund_count=refund_count,
        total_spend=spend,
        avg_order_value=aov,
        first_order_at=first_at,
        last_order_at=last_at,
        repurchase_cycle_days=cycle,
        next_expected_on=next_on,
        lifecycle_stage=stage,
        churn_risk=bool(churn_reason),
        churn_reason=churn_reason,
    )


@transaction.atomic
def customer_refresh_figures(*, customer_id: int, today: dt.date | None = None) -> Figures:
    """Recompute a customer's lifecycle, purchase figures and churn flag from orders and relations.

    The after-write task calls this and the nightly sweep calls customers_refresh_figures, which
    runs the same computation, so they always agree.
    """
    return customers_refresh_figures(customer_ids=[customer_id], today=today)[customer_id]


@transaction.atomic
def customers_refresh_figures(*, customer_ids: list[int], today: dt.date | None = None) -> dict[int, Figures]:
    """Figures for a batch of customers in three queries, whatever the batch size."""
    today = today or timezone.localdate()
    orders: dict[int, list] = {pk: [] for pk in customer_ids}
    ended_by: dict[int, list[str]] = {pk: [] for pk in customer_ids}
    for customer_id, *row in Order.objects.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "paid_at", "amount", "refund_amount", "status"
    ):
        orders[customer_id].append(tuple(row))
    for customer_id, ended in FollowRelation.objects.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "ended_by"
    ):
        ended_by[customer_id].append(ended)
    now = timezone.now()
    figures = {
        pk: figures_compute(orders=orders[pk], relations_ended_by=ended_by[pk], today=today) for pk in customer_ids
    }
    rows = [Customer(pk=pk, **f.__dict__, figures_updated_at=now) for pk, f in figures.items()]
    Customer.objects.bulk_update(rows, [*Figures.__dataclass_fields__, "figures_updated_at"])
    return figures


def customer_figures_refresh_later(*, customer_ids) -> None:
    """Recompute these customers' figures in Celery once the current transaction commits.

    A dispatch lost to a broker outage is not an error: the nightly sweep recomputes everyone.
    """
    ids = list(dict.fromkeys(customer_ids))
    # The same facts feed 今日's reminders (gathered into one task per transaction).
    signals.facts_changed.send(sender=Customer, customer_ids=ids)

    def dispatch():
        # Imported late: tasks import this module.
        from scrm.customers.tasks import refresh_figures

        for customer_id in ids:
            try:
                refresh_figures.delay(customer_id)
            except Exception:
                logger.warning("figures of customer %s left for the nightly sweep", customer_id, exc_info=True)

    transaction.on_commit(dispatch)


# --- tags and notes from the sidebar ------------------------------------------------------------


# Sent inside the edit's transaction when a guide adds or removes a tag here. The WeCom app listens
# (its tag outbox pushes mark_tag after commit); customers itself never imports scrm.wecom.


@transaction.atomic
def customer_tag_add(*, customer: Customer, tag: Tag, staff: Staff) -> bool:
    """Tag a customer; False when they already had the tag (then nothing is recorded twice)."""
    link, created = CustomerTag.objects.get_or_create(
        customer=customer, tag=tag, defaults={"added_by": staff, "source": "local"}
    )
    if not created:
        return False
    events.tag_changed_record(
        customer=customer, staff=staff, tag=tag, added=True, link_id=link.pk, occurred_at=timezone.now()
    )
    signals.customer_tag_changed.send(sender=Customer, customer=customer, staff=staff, tag=tag, added=True)
    if tag.group.single_choice:
        # One tag per customer in this group: the new one replaces the others (each removal recorded).
        others = Tag.objects.filter(group_id=tag.group_id, customer_tags__customer=customer, deleted=False).exclude(
            pk=tag.pk
        )
        for other in others.select_related("group"):
            customer_tag_remove(customer=customer, tag=other, staff=staff)
    return True


@transaction.atomic
def customer_tag_remove(*, customer: Customer, tag: Tag, staff: Staff) -> bool:
    """Untag a customer; False when they did not have the tag."""
    # Locked so two concurrent removals record one event.
    link = CustomerTag.objects.select_for_update().filter(customer=customer, tag=tag).first()
    if link is None:
        return False
    link_pk = link.pk
    link.delete()
    events.tag_changed_record(
        customer=customer, staff=staff, tag=tag, added=False, link_id=link_pk, occurred_at=timezone.now()
    )
    signals.customer_tag_changed.send(sender=Customer, customer=customer, staff=staff, tag=tag, added=False)
    return True


@transaction.atomic
def note_create(
    *, customer: Customer, staff: Staff, body: str, next_contact_on: dt.date | None = None, request_id: str = ""
) -> Note:
    """A guide's follow-up note and its timeline event.

    request_id (generated with the form) makes a double submit record one note.
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("请填写跟进内容"))
    now = timezone.now()
    key = f"note:{staff.pk}:{customer.pk}:{request_id or uuid.uuid4().hex}"
    # The event goes first: its unique dedupe_key is what turns a replay into a no-op.
    event, created = events.note_record(
        customer=customer, staff=staff, body=body, next_contact_on=next_contact_on, occurred_at=now, dedupe_key=key
    )
    if not created:
        return Note.objects.get(pk=event.payload["note_id"])
    note = Note.objects.create(customer=customer, staff=staff, body=body, next_contact_on=next_contact_on)
    event.payload["note_id"] = note.pk
    event.save(update_fields=["payload"])
    return note
