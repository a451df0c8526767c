"""The demo's 身份核对: family members who share a phone, so the portrait's "可能是同一人" card and the
console's identity page have something to decide on the first visit. Idempotent (the accounts are
found again by their ids)."""

from scrm.customers.identity import customer_resolve_detail
from scrm.customers.models import FollowRelation, Identity, IdentityKind
from scrm.org.models import Staff

GUIDE = "hz001g01"  # the guide seed_demo suggests for /dev/chat/
FAMILY = 3


def identity_demo_seed() -> int:
    """A Tmall account (a daughter's, say) with the phone of a customer of the demo guide: a suggestion."""
    guide = Staff.objects.filter(userid=GUIDE).first()
    if guide is None:
        return 0
    served = FollowRelation.objects.filter(staff=guide, ended_at__isnull=True).values("customer_id")
    phones = Identity.objects.filter(customer_id__in=served, kind=IdentityKind.PHONE).order_by("customer_id")[:FAMILY]
    made = 0
    for n, phone in enumerate(phones):
        account = f"tb_family{n:03d}"
        if Identity.objects.filter(kind=IdentityKind.TMALL, value=account).exists():
            continue
        result = customer_resolve_detail(
            identities=[
                (IdentityKind.TMALL, account, f"tb***{account[-3:]}"),
                (phone.kind, phone.value, phone.display),
            ],
            defaults={"name": f"天猫买家{n + 1}"},
            provenance="api:天猫",
        )
        made += bool(result.suggested)
    return made
