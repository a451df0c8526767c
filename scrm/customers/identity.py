"""Identity resolution: one Customer per real person, however many channels know them.

Every inbound record (WeCom contact, mini-program user, shop member…) names the person by
(kind, value) identities. `customer_resolve` finds the customer behind any of them, attaches
the missing ones, and when they prove two customers are one person merges the newer into the
older. `customer_merge` moves every related row and writes a CustomerMerge audit row from
which `customer_merge_undo` can put things back.
"""

import logging

from django.apps import apps
from django.db import IntegrityError, OperationalError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers.events import Channel, EventKind
from scrm.customers.models import Customer, CustomerMerge, CustomerTag, Gender, Identity
from scrm.customers.services import customer_figures_refresh_later, event_record

logger = logging.getLogger(__name__)

# (kind, value, display); display may be "" (phones: value is the keyed hash, display the mask).
IdentityTuple = tuple[str, str, str]

# keep's blank fields take drop's value on merge; the old values are kept for undo.
_FILLABLE = ["name", "avatar", "gender", "birthday", "phone_hash", "phone_masked", "store_id"]
_RESOLVE_ATTEMPTS = 3
DEADLOCK = "40P01"  # PostgreSQL's SQLSTATE for deadlock_detected


def _blank_value(field: str, value) -> bool:
    return value in (None, "") or (field == "gender" and value == Gender.UNKNOWN)


def _blank(customer: Customer, field: str) -> bool:
    return _blank_value(field, getattr(customer, field))


def _root(customer: Customer) -> Customer:
    # Identities are moved on merge, so this only matters for rows written by older code.
    seen = set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def customer_resolve(*, identities: list[IdentityTuple], defaults: dict) -> Customer:
    """The customer known by any of `identities`, created from `defaults` when none is.

    Missing identities are attached; if they point at several customers those are merged
    into the oldest. Safe against a concurrent resolve of the same new identity.
    """
    return customer_resolve_or_create(identities=identities, defaults=defaults)[0]


def customer_resolve_or_create(*, identities: list[IdentityTuple], defaults: dict) -> tuple[Customer, bool]:
    """customer_resolve, and whether this very call created the customer (of concurrent calls for the
    same new person exactly one says so)."""
    wanted: dict[tuple[str, str], str] = {}
    for kind, value, display in identities:
        value = (value or "").strip()
        if value:
            wanted.setdefault((kind, value), display or "")
    if not wanted:
        raise ValueError("customer_resolve needs at least one non-empty identity")
    for attempt in range(_RESOLVE_ATTEMPTS):
        try:
            with transaction.atomic():
                return _resolve_once(wanted, defaults)
        except (IntegrityError, OperationalError) as exc:
            # Another transaction created one of these identities first, or two resolutions of
            # overlapping identities deadlocked (PostgreSQL picked this one): look again.
            if isinstance(exc, OperationalError) and getattr(exc.__cause__, "sqlstate", None) != DEADLOCK:
                raise
            if attempt == _RESOLVE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _resolve_once(wanted: dict[tuple[str, str], str], defaults: dict) -> tuple[Customer, bool]:
    query = Q()
    for kind, value in wanted:
        query |= Q(kind=kind, value=value)
    # Locked in id order, so resolutions of overlapping identities queue instead of deadlocking.
    found = list(Identity.objects.select_for_update().filter(query).select_related("customer").order_by("pk"))
    customers: dict[int, Customer] = {}
    for identity in found:
        root = _root(identity.customer)
        customers[root.pk] = root

    created = not customers
    if created:
        keep = Customer.objects.create(**defaults)
    else:
        ordered = sorted(customers.values(), key=lambda c: (c.created_at, c.pk))
        keep = ordered[0]
        if len(ordered) > 1:
            shared = ", ".join(f"{i.kind}:{i.value}" for i in found if i.customer_id != keep.pk)
            for drop in ordered[1:]:
                customer_merge(keep=keep, drop=drop, reason=_("身份标识指向同一个人：%(ids)s") % {"ids": shared})
            keep.refresh_from_db()
        fields = _defaults_fields(defaults)
        changed = []
        for field in _FILLABLE:
            if field in fields and not _blank_value(field, fields[field]) and _blank(keep, field):
                setattr(keep, field, fields[field])
                changed.append(field)
        if changed:
            keep.save(update_fields=[*changed, "updated_at"])

    known = {(i.kind, i.value) for i in found}
    for (kind, value), display in wanted.items():
        if (kind, value) not in known:
            Identity.objects.create(customer=keep, kind=kind, value=value, display=display[:64])
    return keep, created


def _defaults_fields(defaults: dict) -> dict:
    # Accept both store=<Store> and store_id=<pk> in defaults.
    fields = dict(defaults)
    if "store" in fields:
        store = fields.pop("store")
        fields["store_id"] = store.pk if store is not None else None
    return fields


def _customer_relations():
    """Every one-to-many relation to Customer, including ones other apps add later."""
    for rel in Customer._meta.related_objects:
        if rel.one_to_many and rel.related_model is not CustomerMerge:
            yield rel.related_model, rel.field.name


def customer_merge(*, keep: Customer, drop: Customer, reason: str) -> CustomerMerge:
    """Merge `drop` into `keep`: every related row moves, drop.merged_into is set, audited."""
    if keep.pk == drop.pk:
        raise ValueError("cannot merge a customer into itself")
    with transaction.atomic():
        locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[keep.pk, drop.pk])}
        keep, drop = locked[keep.pk], locked[drop.pk]
        if keep.merged_into_id or drop.merged_into_id:
            raise ValueError("cannot merge a customer that was already merged")

        dropped_tags = []
        keep_tag_ids = set(CustomerTag.objects.filter(customer=keep).values_list("tag_id", flat=True))
        for ct in CustomerTag.objects.filter(customer=drop, tag_id__in=keep_tag_ids):
            dropped_tags.append(
                {
                    "tag_id": ct.tag_id,
                    "added_by_id": ct.added_by_id,
                    "source": ct.source,
                    "created_at": ct.created_at.isoformat(),
                }
            )
            ct.delete()

        moved: dict[str, list] = {}
        for model, field in _customer_relations():
            ids = list(model._default_manager.filter(**{field: drop}).values_list("pk", flat=True))
            if not ids:
                continue
            key = f"{model._meta.label_lower}#{field}"
            try:
                with transaction.atomic():
                    model._default_manager.filter(pk__in=ids).update(**{field: keep})
                moved[key] = ids
            except IntegrityError:
                # A unique constraint of some other app's model: move what fits, leave the rest.
                moved[key] = []
                for pk in ids:
                    try:
                        with transaction.atomic():
                            model._default_manager.filter(pk=pk).update(**{field: keep})
                        moved[key].append(pk)
                    except IntegrityError:
                        logger.warning("merge %s→%s left %s %s on drop", drop.pk, keep.pk, key, pk)

        filled = {}
        for field in _FILLABLE:
            if _blank(keep, field) and not _blank(drop, field):
                filled[field] = _json_value(getattr(keep, field))
                setattr(keep, field, getattr(drop, field))
        if filled:
            keep.save(update_fields=[*filled, "updated_at"])
        drop.merged_into = keep
        drop.save(update_fields=["merged_into", "updated_at"])

        merge = CustomerMerge.objects.create(
            keep=keep, drop=drop, reason=reason[:200], moved=moved, dropped_tags=dropped_tags, filled_fields=filled
        )
        event_record(
            customer=keep,
            kind=EventKind.CUSTOMER_MERGED,
            occurred_at=merge.created_at,
            channel=Channel.SYSTEM,
            title=_("合并了客户 %(name)s") % {"name": str(drop)},
            dedupe_key=f"customer_merged:{merge.pk}",
            payload={"merge_id": merge.pk, "drop_id": drop.pk, "reason": merge.reason},
        )
        customer_figures_refresh_later(customer_ids=[keep.pk])
    return merge


def _json_value(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def customer_merge_undo(*, merge: CustomerMerge) -> CustomerMerge:
    """Put back what `customer_merge` moved. Rows added to keep after the merge stay with keep."""
    with transaction.atomic():
        merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at:
            return merge
        keep = Customer.objects.select_for_update().get(pk=merge.keep_id)
        drop = Customer.objects.select_for_update().get(pk=merge.drop_id)
        for key, ids in merge.moved.items():
            label, field = key.split("#")
            model = apps.get_model(label)
            model._default_manager.filter(pk__in=ids, **{field: keep}).update(**{field: drop})
        for row in merge.dropped_tags:
            CustomerTag.objects.get_or_create(
                customer=drop,
                tag_id=row["tag_id"],
                defaults={"added_by_id": row["added_by_id"], "source": row["source"]},
            )
        for field, old in merge.filled_fields.items():
            model_field = Customer._meta.get_field(field)
            if isinstance(model_field, models.DateField) and old:
                old = model_field.to_python(old)
            setattr(keep, field, old)
        # Only the restored fields: figures may have been recomputed since the merge.
        keep.save(update_fields=[*merge.filled_fields, "updated_at"])
        drop.merged_into = None
        drop.save(update_fields=["merged_into", "updated_at"])
        keep.events.filter(dedupe_key=f"customer_merged:{merge.pk}").delete()
        merge.undone_at = timezone.now()
        merge.save(update_fields=["undone_at"])
        customer_figures_refresh_later(customer_ids=[keep.pk, drop.pk])
    return merge
