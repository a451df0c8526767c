"""Weak links yield to strong evidence (#12).

A phone may have merged two records (the child's Tmall account into the mother). When an observation
later names that account together with an exclusive key that contradicts the merged customer (the
child's own unionid beside the mother's), refusing it would leave the account with the wrong person for
ever. Instead the phone merge that put the account there is undone (every moved row goes back: the
account, its orders, events), the phone is marked shared, the merge row says why, and resolution runs
again. Only automatic phone merges yield; one a person confirmed stays (the conflict is recorded).
"""

from django.utils.translation import gettext as _

from scrm.customers.identity_merge import IDENTITY_MOVES, customer_members, customer_merge_undo, customer_survivors
from scrm.customers.identity_review import phone_merges_standing
from scrm.customers.models import Customer, CustomerMerge, Event, Identity, IdentityKind, Order


def phone_link_between(*, customer: Customer, observed: set[int], conflicting: set[int]) -> CustomerMerge | None:
    """The standing phone merge into `customer` whose undoing separates the observed identities from the
    conflicting ones, if a phone alone joined them; else None (then they were joined by strong keys)."""
    if not observed or not conflicting:
        return None
    members = customer_members(customer_id=customer.pk)
    for merge in phone_merges_standing().filter(keep_id__in=members).order_by("-pk"):
        moved = set(merge.moved.get(IDENTITY_MOVES, []))
        if (observed <= moved and not conflicting & moved) or (conflicting <= moved and not observed & moved):
            return merge
    return None


def phone_link_yield(*, merge: CustomerMerge, kind: str) -> None:
    """Undo `merge` because a new `kind` value contradicts it; its phone stops merging anyone."""
    label = IdentityKind(kind).label if kind in IdentityKind.values else kind
    reason = _("新的%(kind)s与仅由手机号建立的关联矛盾：手机号多人共用，已拆分") % {"kind": label}
    customer_merge_undo(merge=merge, reason=reason)
    if merge.via_identity_id:
        Identity.objects.filter(pk=merge.via_identity_id).update(shared=True)
    # Orders and events that arrived after the merge, named by an identity that just went back, follow it
    # (the undo itself only returns the rows the merge moved).
    back = list(Identity.objects.filter(customer_id=merge.drop_id).values_list("pk", flat=True))
    holders = customer_survivors(Customer.objects.get(pk=merge.keep_id))
    for model in (Order, Event):
        model.objects.filter(customer_id__in=holders, via_identity_id__in=back).update(customer_id=merge.drop_id)
