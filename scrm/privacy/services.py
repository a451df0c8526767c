"""PIPL duties: record who accessed personal data, hand a customer their data, erase it on request.

Erasure removes every row about the person — identities, follow relations, events, orders, notes,
sends, tags, merges, reminders, hand-over items, WeCom inbox and outbox rows — and keeps an empty
customer row so the aggregates already counted (daily figures, distinct counts over past ranges) stay
as they were. Tables added later are reached too: everything pointing at the customer is deleted
unless it is listed in AGGREGATES.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db import models, transaction
from django.db.models.deletion import ProtectedError
from django.http import HttpRequest

from scrm.customers.models import Customer, Gender, LifecycleStage
from scrm.org.models import Staff
from scrm.privacy.models import AccessLog, Erasure
from scrm.wecom.models import CallbackInbox, TagOutbox

# Rows that are counts, not a person: kept, pointing at the emptied customer row.
AGGREGATES = {"analytics.GuideCustomerDay"}
# A guide who reopens the same portrait all afternoon is one access, not fifty rows.
VIEW_LOG_EVERY = dt.timedelta(minutes=10)


def _actor(staff: Staff | None) -> str:
    return f"{staff.name}（{staff.userid}）" if staff else "system"


def _ip(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def access_record(
    *,
    staff: Staff | None,
    action: str,
    customer_id: int | None = None,
    subject: str = "",
    request: HttpRequest | None = None,
) -> None:
    """One access to personal data; views of the same customer by the same person are logged once per 10 min."""
    if action == AccessLog.Action.VIEW:
        key = f"privacy:view:{staff.pk if staff else 0}:{customer_id}"
        if not cache.add(key, 1, timeout=int(VIEW_LOG_EVERY.total_seconds())):
            return
    AccessLog.objects.create(
        staff=staff, actor=_actor(staff), action=action, customer_id=customer_id, subject=subject[:200], ip=_ip(request)
    )


def _rows(queryset, *fields: str) -> list[dict]:
    return [
        {key: (value.isoformat() if hasattr(value, "isoformat") else value) for key, value in row.items()}
        for row in queryset.values(*fields)
    ]


def customer_data_export(*, customer: Customer, staff: Staff, request: HttpRequest | None = None) -> dict:
    """Everything held about the customer, as the person may ask for it (PIPL art. 45)."""
    people = [customer, *Customer.objects.filter(merged_into=customer)]
    ids = [person.pk for person in people]
    data = {
        "customer": _rows(
            Customer.objects.filter(pk=customer.pk),
            "id",
            "name",
            "gender",
            "birthday",
            "phone_masked",
            "store__name",
            "source",
            "lifecycle_stage",
            "order_count",
            "total_spend",
            "first_order_at",
            "last_order_at",
            "created_at",
        )[0],  # fmt: skip
        "merged_customer_ids": ids[1:],
        "identities": _rows(customer.identities.order_by("id"), "kind", "display", "created_at"),
        "wecom_relations": _rows(
            customer.follow_relations.order_by("id"),
            "staff__name",
            "external_userid",
            "remark",
            "description",
            "added_at",
            "ended_at",
            "ended_by",
        ),  # fmt: skip
        "tags": _rows(customer.customer_tags.order_by("id"), "tag__group__name", "tag__name", "created_at"),
        "orders": [
            {
                **_rows(
                    type(order).objects.filter(pk=order.pk),
                    "channel",
                    "order_no",
                    "paid_at",
                    "amount",
                    "refund_amount",
                    "status",
                )[0],  # fmt: skip
                "lines": _rows(order.lines.order_by("id"), "sku", "name", "quantity", "unit_price", "amount"),
            }
            for order in customer.orders.order_by("paid_at", "id")
        ],
        "events": _rows(
            customer.events.order_by("occurred_at", "id"), "kind", "channel", "title", "occurred_at", "payload"
        ),
        "notes": _rows(customer.notes.order_by("id"), "staff__name", "body", "next_contact_on", "created_at"),
        "material_sends": _rows(customer.material_sends.order_by("id"), "material__title", "staff__name", "sent_at"),
    }
    access_record(staff=staff, action=AccessLog.Action.EXPORT_CUSTOMER, customer_id=customer.pk, request=request)
    return data


@dataclass(frozen=True)
class ErasureResult:
    customer_id: int
    counts: dict[str, int]


def _delete_related(customer: Customer, counts: dict[str, int]) -> None:
    """Delete every row pointing at the customer but the aggregates; protected rows go after what protects them."""
    pending = [
        rel
        for rel in Customer._meta.related_objects
        if rel.related_model._meta.label not in AGGREGATES and rel.field.name != "merged_into"
    ]
    for _attempt in range(3):
        retry = []
        for rel in pending:
            queryset = rel.related_model._base_manager.filter(**{rel.field.name: customer})
            try:
                _total, per_model = queryset.delete()
            except ProtectedError:
                retry.append(rel)
                continue
            for label, n in per_model.items():
                counts[label] = counts.get(label, 0) + n
        if not retry:
            return
        pending = retry
    raise ProtectedError("rows about the customer are protected by other rows", set())


def _blank(customer: Customer) -> None:
    defaults = {f.name: f.get_default() for f in Customer._meta.concrete_fields if not f.primary_key}
    kept = {"store", "source", "merged_into", "created_at"}
    for name, value in defaults.items():
        if name not in kept and not isinstance(Customer._meta.get_field(name), models.ForeignKey):
            setattr(customer, name, value)
    customer.gender = Gender.UNKNOWN
    customer.lifecycle_stage = LifecycleStage.PROSPECT
    customer.save()


@transaction.atomic
def customer_erase(*, customer: Customer, staff: Staff, request: HttpRequest | None = None) -> ErasureResult:
    """Erase the person's data (PIPL art. 47), the customers merged into them included; idempotent."""
    people = [customer, *Customer.objects.filter(merged_into=customer).select_for_update()]
    external_ids = set()
    for person in people:
        external_ids |= set(person.follow_relations.values_list("external_userid", flat=True))
    counts: dict[str, int] = {}
    for person in people:
        _delete_related(person, counts)
        _blank(person)
    # WeCom's own messages about the person: callbacks received and tag changes waiting to go out.
    for model in (CallbackInbox, TagOutbox):
        n, _per_model = model.objects.filter(external_userid__in=external_ids).delete()
        counts[model._meta.label] = n
    counts = {label: n for label, n in sorted(counts.items()) if n}
    for person in people:
        Erasure.objects.update_or_create(
            customer_id=person.pk, defaults={"staff": staff, "actor": _actor(staff), "counts": counts}
        )
    access_record(staff=staff, action=AccessLog.Action.ERASE_CUSTOMER, customer_id=customer.pk, request=request)
    return ErasureResult(customer_id=customer.pk, counts=counts)
