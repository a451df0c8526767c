"""Reads of the REST API: the unified customer portrait for other systems."""

from django.db.models import Prefetch

from scrm.customers.models import Customer, CustomerTag, FollowRelation, Identity
from scrm.privacy.models import Erasure

# A merge chain longer than this would be a bug; stop rather than loop.
_MAX_MERGE_HOPS = 10


def customer_api_get(*, customer_id: int) -> Customer | None:
    """The customer (or, for a merged-away id, the one it was merged into) with what the portrait shows.

    A fixed number of queries however many identities, tags or guides the customer has.
    """
    customers = Customer.objects.select_related("store").prefetch_related(
        Prefetch("identities", queryset=Identity.objects.order_by("id")),
        Prefetch(
            "customer_tags",
            queryset=CustomerTag.objects.filter(tag__deleted=False).select_related("tag__group").order_by("id"),
        ),
        Prefetch(
            "follow_relations",
            queryset=FollowRelation.objects.filter(ended_at__isnull=True).select_related("staff").order_by("added_at"),
            to_attr="active_relations",
        ),
    )
    pk = customer_id
    for _hop in range(_MAX_MERGE_HOPS):
        merged_into = Customer.objects.filter(pk=pk).values_list("merged_into_id", flat=True).first()
        if merged_into is None:
            break
        pk = merged_into
    # A customer erased on request (PIPL) keeps an empty row for the figures; to the API it is gone.
    erased = Erasure.objects.filter(customer_id=pk).exists()
    return None if erased else customers.filter(pk=pk, merged_into__isnull=True).first()
