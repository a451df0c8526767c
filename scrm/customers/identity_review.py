"""What people review about identity (reads): open merge suggestions, merges a phone caused, refused joins.

The guide sees what concerns the customer in the chat (portrait), admins everything (console). Every
other record is shown masked, by its strongest non-phone key: "天猫账号 tb_***123". Writes are the
services in identity_merge.
"""

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from scrm.customers.identity_keys import SHARED_KINDS
from scrm.customers.identity_merge import IDENTITY_MOVES, customer_members, customer_survivor
from scrm.customers.models import Customer, CustomerMerge, Identity, IdentityConflict, IdentityKind, MergeSuggestion
from scrm.customers.selectors import identity_row
from scrm.org.compiled import CUSTOMER, compiled_rows

BRAND_ROWS = 50


def _mask(text: str) -> str:
    return f"{text[:3]}***{text[-3:]}" if len(text) > 6 else f"{text[:1]}***"


def evidence_of_identities(identities) -> str:
    """The strongest non-phone identity of these, masked: "天猫账号 tb_***123" (or "另一条记录")."""
    identity = next((i for i in sorted(identities, key=lambda i: i.pk) if i.kind not in SHARED_KINDS), None)
    if identity is None:
        return _("另一条记录")
    return _("%(kind)s账号 %(value)s") % {
        "kind": IdentityKind(identity.kind).label,
        "value": _mask(identity.display or identity.value),
    }


def evidence_of(customer: Customer) -> str:
    return evidence_of_identities(customer.identities.exclude(kind__in=SHARED_KINDS))


@dataclass
class ProvenanceRow:
    """One identity as an admin reviews it: masked value and where it came from."""

    label: str
    masked: str
    source: str
    first_seen: object
    last_seen: object
    verified: bool
    shared: bool


def identity_provenance(*, customer: Customer) -> list[ProvenanceRow]:
    rows = []
    for identity in Identity.objects.filter(customer=customer).order_by("pk"):
        shown = identity_row(identity)
        rows.append(
            ProvenanceRow(
                label=shown.label,
                masked=shown.masked,
                source=identity.source_label,
                first_seen=identity.created_at,
                last_seen=identity.last_seen_at,
                verified=identity.verified,
                shared=identity.shared,
            )
        )
    return rows


@dataclass
class SuggestionRow:
    suggestion: MergeSuggestion
    this: Customer  # the side being looked at (the chat's customer, or the older record brand-wide)
    other: Customer
    evidence: str  # the other side, masked
    # Both sides' identities with provenance (filled for the console only).
    this_ids: list[ProvenanceRow] = field(default_factory=list)
    other_ids: list[ProvenanceRow] = field(default_factory=list)


@dataclass
class PhoneMergeRow:
    merge: CustomerMerge
    evidence: str  # the record the phone merged in, masked
    keep_ids: list[ProvenanceRow] = field(default_factory=list)


@dataclass
class Review:
    suggestions: list[SuggestionRow] = field(default_factory=list)
    phone_merges: list[PhoneMergeRow] = field(default_factory=list)
    conflicts: list[IdentityConflict] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.suggestions or self.phone_merges or self.conflicts)


def _suggestion_rows(suggestions, members: set[int] | None) -> list[SuggestionRow]:
    rows = []
    for suggestion in suggestions:
        a, b = customer_survivor(suggestion.customer), customer_survivor(suggestion.other)
        if a.pk == b.pk:
            continue  # merged meanwhile by other evidence: nothing left to decide
        this, other = (b, a) if members is not None and b.pk in members else (a, b)
        rows.append(SuggestionRow(suggestion=suggestion, this=this, other=other, evidence=evidence_of(other)))
    return rows


def _merge_rows(merges) -> list[PhoneMergeRow]:
    moved = {m.pk: m.moved.get(IDENTITY_MOVES, []) for m in merges}
    identities = Identity.objects.filter(pk__in=[pk for ids in moved.values() for pk in ids])
    by_pk = {i.pk: i for i in identities}
    return [
        PhoneMergeRow(merge=m, evidence=evidence_of_identities([by_pk[pk] for pk in moved[m.pk] if pk in by_pk]))
        for m in merges
    ]


def _open_suggestions():
    return MergeSuggestion.objects.filter(status=MergeSuggestion.Status.OPEN).select_related("customer", "other")


def phone_merges_standing():
    """Merges a phone made on its own; one a person confirmed from a suggestion was their decision."""
    confirmed = MergeSuggestion.objects.filter(status=MergeSuggestion.Status.CONFIRMED).filter(
        Q(customer_id=OuterRef("keep_id"), other_id=OuterRef("drop_id"))
        | Q(customer_id=OuterRef("drop_id"), other_id=OuterRef("keep_id"))
    )
    merges = CustomerMerge.objects.filter(key=IdentityKind.PHONE, undone_at__isnull=True).exclude(Exists(confirmed))
    return merges.select_related("keep", "drop")


def _anything_to_review() -> QuerySet:
    """The customer's row only if a review could name them: merged records, open suggestions, phone merges."""
    merged_in = Customer.objects.filter(merged_into_id=CUSTOMER)
    suggested = MergeSuggestion.objects.filter(status=MergeSuggestion.Status.OPEN).filter(
        Q(customer_id=CUSTOMER) | Q(other_id=CUSTOMER)
    )
    merges = phone_merges_standing().filter(keep_id=CUSTOMER)
    return (
        Customer.objects.filter(pk=CUSTOMER).filter(Exists(merged_in) | Exists(suggested) | Exists(merges)).only("pk")
    )


def review_for_customer(*, customer: Customer) -> Review:
    """What the guide chatting with `customer` may decide: suggestions naming them, phone merges into them."""
    # Nearly every portrait has nothing to review: one compiled query says so (#17).
    if not compiled_rows(("anything_to_review",), _anything_to_review).all({CUSTOMER: customer.pk}):
        return Review()
    members = customer_members(customer_id=customer.pk)
    suggestions = _open_suggestions().filter(Q(customer_id__in=members) | Q(other_id__in=members)).order_by("pk")
    merges = phone_merges_standing().filter(keep_id__in=members).order_by("-created_at")
    return Review(suggestions=_suggestion_rows(suggestions, members), phone_merges=_merge_rows(list(merges)))


def review_brandwide(*, limit: int = BRAND_ROWS) -> Review:
    """Everything open across the brand, newest first (admins' console page)."""
    suggestions = _open_suggestions().order_by("-created_at", "-pk")[:limit]
    merges = phone_merges_standing().order_by("-created_at")[:limit]
    conflicts = (
        IdentityConflict.objects.filter(resolved_at__isnull=True)
        .select_related("customer", "other")
        .order_by("-created_at", "-pk")[:limit]
    )
    review = Review(
        suggestions=_suggestion_rows(suggestions, None),
        phone_merges=_merge_rows(list(merges)),
        conflicts=list(conflicts),
    )
    # Both sides shown, with where each identity came from.
    for row in review.suggestions:
        row.this_ids = identity_provenance(customer=row.this)
        row.other_ids = identity_provenance(customer=row.other)
    for row in review.phone_merges:
        row.keep_ids = identity_provenance(customer=customer_survivor(row.merge.keep))
    for conflict in review.conflicts:
        conflict.customer_ids = identity_provenance(customer=conflict.customer)
        conflict.other_ids = identity_provenance(customer=conflict.other) if conflict.other else []
    return review


def conflict_open(*, conflict_id: int) -> IdentityConflict | None:
    return IdentityConflict.objects.filter(pk=conflict_id, resolved_at__isnull=True).first()


def suggestion_open(*, suggestion_id: int) -> MergeSuggestion | None:
    return _open_suggestions().filter(pk=suggestion_id).first()


def phone_merge_standing(*, merge_id: int) -> CustomerMerge | None:
    return phone_merges_standing().filter(pk=merge_id).first()


def suggestion_for_customer(*, customer: Customer, suggestion_id: int) -> MergeSuggestion | None:
    """An open suggestion naming `customer` (or a record merged into them), else None."""
    members = customer_members(customer_id=customer.pk)
    return (
        _open_suggestions()
        .filter(Q(customer_id__in=members) | Q(other_id__in=members))
        .filter(pk=suggestion_id)
        .first()
    )


def phone_merge_for_customer(*, customer: Customer, merge_id: int) -> CustomerMerge | None:
    """A phone merge into `customer` (or into a record merged into them) that still stands, else None."""
    members = customer_members(customer_id=customer.pk)
    return phone_merges_standing().filter(keep_id__in=members, pk=merge_id).first()
