"""Merging two customers into one, and undoing it in any order.

`customer_merge` moves every related row and writes a CustomerMerge audit row (with the key that
joined them) from which `customer_merge_undo` puts things back, also after later merges moved the
survivor again (a chain K0 ← K1 ← D1).
"""

import logging

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers.events import customer_merged_record
from scrm.customers.models import (
    Customer,
    CustomerMerge,
    CustomerTag,
    Event,
    Gender,
    Identity,
    IdentityConflict,
    MergeSuggestion,
)
from scrm.customers.services import customer_figures_refresh_later

logger = logging.getLogger(__name__)

# keep's blank fields take drop's value on merge; the old values are kept for undo.
FILLABLE = ["name", "avatar", "gender", "birthday", "phone_hash", "phone_masked", "store_id"]
IDENTITY_MOVES = "customers.identity#customer"  # CustomerMerge.moved's key for the identities a merge moved
# Review rows name both people as they were: they never move.
_UNMOVED = (CustomerMerge, IdentityConflict, MergeSuggestion)


def blank_value(field: str, value) -> bool:
    return value in (None, "") or (field == "gender" and value == Gender.UNKNOWN)


def _blank(customer: Customer, field: str) -> bool:
    return blank_value(field, getattr(customer, field))


def customer_members(*, customer_id: int) -> set[int]:
    """The customer and every customer merged into it, directly or through a chain."""
    members = {customer_id}
    frontier = {customer_id}
    while frontier:
        frontier = set(Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)) - members
        members |= frontier
    return members


def customer_survivors(customer: Customer) -> list[int]:
    """customer and whoever it was merged into since, up to the live customer."""
    chain = [customer.pk]
    while customer.merged_into_id and customer.merged_into_id not in chain:
        customer = Customer.objects.get(pk=customer.merged_into_id)
        chain.append(customer.pk)
    return chain


def _customer_relations():
    """Every one-to-many relation to Customer, including ones other apps add later."""
    for rel in Customer._meta.related_objects:
        if rel.one_to_many and rel.related_model not in _UNMOVED:
            yield rel.related_model, rel.field.name


def customer_merge(
    *, keep: Customer, drop: Customer, reason: str, key: str = "", via: Identity | None = None
) -> CustomerMerge:
    """Merge `drop` into `keep`: every related row moves, drop.merged_into is set, audited."""
    if keep.pk == drop.pk:
        raise ValueError("cannot merge a customer into itself")
    with transaction.atomic():
        # In id order, as every locker of customers takes them (the bulk event path, undo).
        pair = Customer.objects.select_for_update().filter(pk__in=[keep.pk, drop.pk]).order_by("pk")
        locked = {c.pk: c for c in pair}
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
            label = f"{model._meta.label_lower}#{field}"
            try:
                with transaction.atomic():
                    model._default_manager.filter(pk__in=ids).update(**{field: keep})
                moved[label] = ids
            except IntegrityError:
                # A unique constraint of some other app's model: move what fits, leave the rest.
                moved[label] = []
                for pk in ids:
                    try:
                        with transaction.atomic():
                            model._default_manager.filter(pk=pk).update(**{field: keep})
                        moved[label].append(pk)
                    except IntegrityError:
                        logger.warning("merge %s→%s left %s %s on drop", drop.pk, keep.pk, label, pk)

        filled = {}
        for field in FILLABLE:
            if _blank(keep, field) and not _blank(drop, field):
                filled[field] = _json_value(getattr(keep, field))
                setattr(keep, field, getattr(drop, field))
        if filled:
            keep.save(update_fields=[*filled, "updated_at"])
        drop.merged_into = keep
        drop.save(update_fields=["merged_into", "updated_at"])

        merge = CustomerMerge.objects.create(
            keep=keep,
            drop=drop,
            reason=reason[:200],
            key=key,
            via_identity_id=via.pk if via is not None else None,
            moved=moved,
            dropped_tags=dropped_tags,
            filled_fields=filled,
        )
        customer_merged_record(merge=merge, keep=keep, drop=drop)
        customer_figures_refresh_later(customer_ids=[keep.pk])
    return merge


def _json_value(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def customer_merge_undo(*, merge: CustomerMerge, reason: str = "") -> CustomerMerge:
    """Put back what `customer_merge` moved, wherever later merges took it; rows added since stay.

    The pair is then known to be two people (see identity_keys.known_apart): the same evidence will
    not merge them again.
    """
    with transaction.atomic():
        merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at:
            return merge
        pair = Customer.objects.select_for_update().filter(pk__in=[merge.keep_id, merge.drop_id]).order_by("pk")
        locked = {c.pk: c for c in pair}
        keep, drop = locked[merge.keep_id], locked[merge.drop_id]
        # keep may itself have been merged since: the moved rows followed it to its survivors.
        holders = customer_survivors(keep)
        for key, ids in merge.moved.items():
            label, field = key.split("#")
            model = apps.get_model(label)
            model._default_manager.filter(pk__in=ids, **{f"{field}__in": holders}).update(**{field: drop})
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
        Event.objects.filter(dedupe_key=f"customer_merged:{merge.pk}").delete()
        merge.undone_at, merge.undo_reason = timezone.now(), reason[:200]
        merge.save(update_fields=["undone_at", "undo_reason"])
        customer_figures_refresh_later(customer_ids=[*holders, drop.pk])
    return merge


def merge_suggestion_confirm(*, suggestion: MergeSuggestion) -> CustomerMerge | None:
    """A person says the two are one: merge the newer record into the older, as a phone merge."""
    with transaction.atomic():
        suggestion = MergeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if suggestion.status != MergeSuggestion.Status.OPEN:
            return None
        keep, drop = customer_survivor(suggestion.customer), customer_survivor(suggestion.other)
        merge = None
        if keep.pk != drop.pk:
            keep, drop = sorted([keep, drop], key=lambda c: (c.created_at, c.pk))
            merge = customer_merge(
                keep=keep, drop=drop, reason=_("确认是同一人：%(e)s") % {"e": suggestion.evidence}, key=suggestion.kind
            )
        suggestion.status, suggestion.decided_at = MergeSuggestion.Status.CONFIRMED, timezone.now()
        suggestion.save(update_fields=["status", "decided_at"])
    return merge


def merge_suggestion_reject(*, suggestion: MergeSuggestion) -> None:
    """A person says they are two people: the same evidence will not suggest or merge them again."""
    MergeSuggestion.objects.filter(pk=suggestion.pk, status=MergeSuggestion.Status.OPEN).update(
        status=MergeSuggestion.Status.REJECTED, decided_at=timezone.now()
    )


def customer_survivor(customer: Customer) -> Customer:
    """The live customer `customer` is now part of (itself unless it was merged)."""
    return Customer.objects.get(pk=customer_survivors(Customer.objects.get(pk=customer.pk))[-1])


def identity_conflict_resolve(*, conflict: IdentityConflict) -> None:
    """An admin looked at a refused join and dealt with it: it leaves the open list (idempotent)."""
    IdentityConflict.objects.filter(pk=conflict.pk, resolved_at__isnull=True).update(resolved_at=timezone.now())
