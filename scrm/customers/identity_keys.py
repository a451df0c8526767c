"""How strong each identity kind is, and which joins the phone policy allows.

- Exclusive person keys: a person has at most one value of each kind (one unionid per WeChat open
  platform, one external_userid per WeCom corp, one openid per official account / mini program: each
  brand connects one of each). A join that would give one customer two values of such a kind is refused.
- Account keys (tmall, jd, youzan, pos_member): one account is one person; they merge records.
- Shared keys (phone): families share phones. Whether a phone merges follows IDENTITY_PHONE_POLICY.
"""

from django.conf import settings

from scrm.customers.models import CustomerMerge, IdentityKind, MergeSuggestion

EXCLUSIVE_KINDS = frozenset({IdentityKind.UNIONID, IdentityKind.WECOM, IdentityKind.OA_OPENID, IdentityKind.MP_OPENID})
ACCOUNT_KINDS = frozenset({IdentityKind.TMALL, IdentityKind.JD, IdentityKind.YOUZAN, IdentityKind.POS_MEMBER})
SHARED_KINDS = frozenset({IdentityKind.PHONE})
# The order an observation's keys are trusted in when they point at different people.
STRENGTH = [
    IdentityKind.UNIONID,
    IdentityKind.WECOM,
    IdentityKind.MP_OPENID,
    IdentityKind.OA_OPENID,
    IdentityKind.TMALL,
    IdentityKind.JD,
    IdentityKind.YOUZAN,
    IdentityKind.POS_MEMBER,
    IdentityKind.PHONE,
]


def strongest(ids: dict[str, int]) -> int | None:
    """The id under the strongest kind of {kind: id}: the identity an event or order names a person by."""
    return next((ids[kind] for kind in STRENGTH if kind in ids), None)


PHONE_VERIFIED = "verified"  # a phone merges when verified on at least one side; else it suggests
PHONE_STRICT = "strict"  # phones only ever suggest
PHONE_MERGE = "merge"  # phones merge (brands whose OneID is the phone), unless they raise a conflict
PHONE_POLICIES = (PHONE_VERIFIED, PHONE_STRICT, PHONE_MERGE)


def phone_policy() -> str:
    policy = getattr(settings, "IDENTITY_PHONE_POLICY", PHONE_VERIFIED)
    return policy if policy in PHONE_POLICIES else PHONE_VERIFIED


def phone_may_merge(*, policy: str, verified: bool) -> bool:
    """Whether a phone found on another record joins them (else it only suggests)."""
    return policy == PHONE_MERGE or (policy == PHONE_VERIFIED and verified)


def exclusive_conflict(a: dict[str, set[str]], b: dict[str, set[str]]) -> str | None:
    """The first exclusive kind of which a and b ({kind: values}) hold different values, if any."""
    for kind in EXCLUSIVE_KINDS:
        if a.get(kind) and b.get(kind) and a[kind] != b[kind]:
            return kind
    return None


def known_apart(*, a_ids: set[int], b_ids: set[int]) -> bool:
    """A person said these records are different people: an undone merge or a rejected suggestion."""
    undone = CustomerMerge.objects.filter(undone_at__isnull=False)
    if undone.filter(keep_id__in=a_ids, drop_id__in=b_ids).exists():
        return True
    if undone.filter(keep_id__in=b_ids, drop_id__in=a_ids).exists():
        return True
    rejected = MergeSuggestion.objects.filter(status=MergeSuggestion.Status.REJECTED)
    return (
        rejected.filter(customer_id__in=a_ids, other_id__in=b_ids).exists()
        or rejected.filter(customer_id__in=b_ids, other_id__in=a_ids).exists()
    )
