"""Identity resolution: one Customer per real person, however many channels know them.

Every inbound record (WeCom contact, mini-program user, shop member…) names the person by
(kind, value) identities. `customer_resolve` finds the customer behind any of them and attaches
the missing ones. Records join along exclusive and account keys unless the join would give one
person two values of an exclusive kind (then an IdentityConflict is recorded and they stay apart);
a phone joins them only as IDENTITY_PHONE_POLICY allows, else it suggests (see identity_keys).
Merges and their undo live in identity_merge.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers.identity_keys import (
    EXCLUSIVE_KINDS,
    SHARED_KINDS,
    exclusive_conflict,
    known_apart,
    phone_may_merge,
    phone_policy,
    strongest,
)
from scrm.customers.identity_merge import (
    FILLABLE,
    blank_value,
    customer_members,
    customer_merge,
    customer_merge_undo,
)
from scrm.customers.identity_seen import identities_seen, seen_stale
from scrm.customers.identity_values import PlaceholderValue, identity_value_normalise
from scrm.customers.identity_yield import phone_link_between, phone_link_yield
from scrm.customers.models import Customer, Identity, IdentityConflict, IdentityKind, MergeSuggestion

__all__ = ["customer_merge", "customer_merge_undo", "customer_resolve", "customer_resolve_or_create"]

# (kind, value, display); display may be "" (phones: value is the keyed hash, display the mask).
IdentityTuple = tuple[str, str, str]

_RESOLVE_ATTEMPTS = 5
_NAMED_CAP = 100  # identities read for the short path; a person has a handful
DEADLOCK = "40P01"  # PostgreSQL's SQLSTATE for deadlock_detected


@dataclass
class Resolution:
    """What one observation did: the customer it names and how it got there."""

    customer: Customer
    created: bool = False
    merged: list[int] = field(default_factory=list)  # ids merged into customer by this call
    suggested: list[int] = field(default_factory=list)  # ids that may be the same person
    conflicts: list[str] = field(default_factory=list)  # exclusive kinds a join was refused on
    # The strongest of the observation's identities on customer: what an event or order names them by.
    via_identity_id: int | None = None
    # All of customer's identities by id, when the resolution read them anyway (else None).
    identities: list | None = None

    @property
    def outcome(self) -> str:
        if self.conflicts:
            return "conflict"
        if self.suggested:
            return "suggested"
        if self.merged:
            return "merged"
        return "created" if self.created else "matched"


def _root(customer: Customer) -> Customer:
    # Identities are moved on merge, so this only matters for rows written by older code.
    seen = set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def customer_resolve(
    *, identities: list[IdentityTuple], defaults: dict, verified=frozenset(), provenance: str = ""
) -> Customer:
    """The customer known by any of `identities`, created from `defaults` when none is."""
    return customer_resolve_detail(
        identities=identities, defaults=defaults, verified=verified, provenance=provenance
    ).customer


def customer_resolve_or_create(
    *, identities: list[IdentityTuple], defaults: dict, verified=frozenset()
) -> tuple[Customer, bool]:
    """customer_resolve, and whether this very call created the customer (of concurrent calls for the
    same new person exactly one says so)."""
    result = customer_resolve_detail(identities=identities, defaults=defaults, verified=verified)
    return result.customer, result.created


def customer_resolve_detail(
    *,
    identities: list[IdentityTuple],
    defaults: dict,
    verified=frozenset(),
    provenance: str = "",
    answer_only: bool = False,
) -> Resolution:
    """Resolve an observation; `verified` names the kinds whose values were verified (e.g. {"phone"}),
    `provenance` who sent it ("api:<key name>"), recorded on the identities it creates. `answer_only`:
    the caller writes nothing on the customer afterwards, so a known person may be read without locks."""
    wanted: dict[tuple[str, str], str] = {}
    for kind, value, display in identities:
        try:
            value = identity_value_normalise(value or "")
        except PlaceholderValue:
            continue  # a placeholder names nobody: it must never become a merge key
        wanted.setdefault((kind, value), display or "")
    if not wanted:
        raise ValueError("customer_resolve needs at least one non-empty identity")
    # The common observations first (#12): a known person in one read, a new one in two inserts.
    resolver = _Resolver(wanted, defaults, frozenset(verified), provenance[:100])
    named = resolver.named()
    # Unlocked, the read may see a customer a concurrent merge is moving: fine for an answer (identify),
    # not for a caller that then writes rows on that customer (an event, an order): they take the locks.
    matched = resolver.matched(named) if answer_only else None
    if matched is not None:
        return matched
    for attempt in range(_RESOLVE_ATTEMPTS):
        try:
            with transaction.atomic():
                resolver = _Resolver(wanted, defaults, frozenset(verified), provenance[:100])
                if not named and attempt == 0:
                    # Nobody had any of these identities a moment ago: a new person, unless a concurrent
                    # call creates them first (the unique constraint says so, and we look again).
                    return resolver.created()
                return resolver.run()
        except (IntegrityError, OperationalError) as exc:
            # Another transaction created one of these identities first, or
            # deadlocked with this one (PostgreSQL picked this one): look again.
            if isinstance(exc, OperationalError) and getattr(exc.__cause__, "sqlstate", None) != DEADLOCK:
                raise
            if attempt == _RESOLVE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _keys(customer: Customer) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for kind, value in Identity.objects.filter(customer=customer).values_list("kind", "value"):
        keys.setdefault(kind, set()).add(value)
    return keys


class _Yielded(Exception):
    """A phone-only merge was undone for stronger evidence; resolution starts over."""


_YIELDS = 3


class _Resolver:
    def __init__(self, wanted: dict[tuple[str, str], str], defaults: dict, verified: frozenset, provenance: str):
        self.wanted, self.defaults, self.verified, self.provenance = wanted, defaults, verified, provenance
        self.now = timezone.now()
        self.result: Resolution | None = None

    def _query(self) -> Q:
        """The observation's identities, (kind, value) OR (kind, value) …"""
        query = Q()
        for kind, value in self.wanted:
            query |= Q(kind=kind, value=value)
        return query

    def named(self) -> list[Identity]:
        """Every identity of every customer the observation names (no lock: a read), by id."""
        query = self._query()
        named = Identity.objects.filter(customer_id__in=Identity.objects.filter(query).values("customer_id"))
        # Capped: a phone many people share would name them all; matched() then leaves it to the full path.
        return list(named.select_related("customer").order_by("pk")[:_NAMED_CAP])

    def matched(self, named: list[Identity]) -> Resolution | None:
        """The observation names one live customer who already has every identity in it, and it changes
        nothing but blanks and last-seen times: what the full resolution would answer, without locks."""
        found = [i for i in named if (i.kind, i.value) in self.wanted]
        if len(named) >= _NAMED_CAP or len(found) != len(self.wanted) or len({i.customer_id for i in named}) != 1:
            return None
        customer = found[0].customer
        if customer.merged_into_id or any(i.kind in self.verified and not i.verified for i in found):
            return None  # a merged-away record to follow, or a phone to mark verified: the full path
        identities_seen(ids=[i.pk for i in found if seen_stale(i.last_seen_at, self.now)], now=self.now)
        self._fill(customer)
        via = strongest({i.kind: i.pk for i in found})
        return Resolution(customer=customer, via_identity_id=via, identities=named)

    def created(self) -> Resolution:
        """A new customer with every identity of the observation (none of which anybody has)."""
        keep = Customer.objects.create(**self.defaults)
        self._fill(keep)
        ordered = [kv for kv in self.wanted if kv[0] not in SHARED_KINDS]
        ordered += [kv for kv in self.wanted if kv[0] in SHARED_KINDS]  # as the full path attaches them
        rows = [
            Identity(
                customer=keep, kind=kind, value=value, display=self.wanted[(kind, value)][:64],
                verified=kind in self.verified, source=self.provenance, last_seen_at=self.now,
            )
            for kind, value in ordered
        ]  # fmt: skip
        Identity.objects.bulk_create(rows)
        via = strongest({i.kind: i.pk for i in rows})
        return Resolution(customer=keep, created=True, via_identity_id=via, identities=rows)

    def run(self) -> Resolution:
        for _attempt in range(_YIELDS):
            try:
                return self._run_once()
            except _Yielded:
                continue  # a phone-only link gave way: look at the identities again
        return self._run_once(may_yield=False)

    def _run_once(self, *, may_yield: bool = True) -> Resolution:
        self.may_yield = may_yield
        query = self._query()
        # Locked in id order, so resolutions of overlapping identities queue instead of deadlocking.
        # No join in the locking query: PostgreSQL re-checks a join after the lock wait and would drop
        # rows a concurrent merge moved; customer_id read here is the committed, current one.
        found = list(Identity.objects.select_for_update().filter(query).order_by("pk"))
        if found:
            Identity.objects.filter(pk__in=[i.pk for i in found]).update(last_seen_at=self.now)
        roots = {i.pk: _root(Customer.objects.get(pk=i.customer_id)) for i in found}
        self.found_ids = {i.pk for i in found}
        strong = [i for i in found if i.kind not in SHARED_KINDS]
        phone = next((i for i in found if i.kind in SHARED_KINDS), None)

        keep = self._join_strong(strong, roots)
        known = {(i.kind, i.value) for i in found}
        new_strong = [kv for kv in self.wanted if kv not in known and kv[0] not in SHARED_KINDS]
        if keep is None and (new_strong or phone is None):
            keep = Customer.objects.create(**self.defaults)
            self.result = Resolution(customer=keep, created=True)
        elif keep is None:
            keep = roots[phone.pk]  # only a phone: whoever has it
            self.result = Resolution(customer=keep)
        self._attach(keep, new_strong)
        if phone is not None:
            # Re-rooted: the strong join above may have merged the phone's holder into keep already.
            holder = _root(Customer.objects.get(pk=roots[phone.pk].pk))
            if holder.pk != keep.pk:
                keep = self._join_by_phone(keep, holder, phone)
        keep = self._attach_phone(keep, known, phone)
        self._fill(keep)
        self.result.customer = keep
        self.result.via_identity_id = self._via(keep, query)
        return self.result

    def _via(self, keep: Customer, query: Q) -> int | None:
        held = dict(Identity.objects.filter(query, customer=keep).values_list("kind", "pk"))
        return strongest(held)

    def _join_strong(self, strong: list[Identity], roots: dict[int, Customer]) -> Customer | None:
        customers = {roots[i.pk].pk: roots[i.pk] for i in strong}
        if not customers:
            return None
        ordered = sorted(customers.values(), key=lambda c: (c.created_at, c.pk))
        keep = ordered[0]
        self.result = Resolution(customer=keep)
        for drop in ordered[1:]:
            key = next(i.kind for i in strong if roots[i.pk].pk == drop.pk)
            if not self._may_join(keep, drop):
                continue
            ids = ", ".join(f"{i.kind}:{i.display or i.value}" for i in strong if roots[i.pk].pk == drop.pk)
            customer_merge(keep=keep, drop=drop, reason=_("身份标识指向同一个人：%(ids)s") % {"ids": ids}, key=key)
            self.result.merged.append(drop.pk)
            keep.refresh_from_db()
        return keep

    def _may_join(self, keep: Customer, other: Customer) -> bool:
        kind = exclusive_conflict(_keys(keep), _keys(other))
        if kind:
            self._yield_weak_link(kind, keep, other)
            self._conflict(kind, keep, other, sorted(_keys(keep)[kind])[0], sorted(_keys(other)[kind])[0])
            return False
        return not known_apart(
            a_ids=customer_members(customer_id=keep.pk), b_ids=customer_members(customer_id=other.pk)
        )

    def _yield_weak_link(self, kind: str, *customers: Customer) -> None:
        """If only a phone merge put the observed identities beside the contradicting `kind` value on one of
        `customers`, undo that merge and raise _Yielded (the caller resolves again)."""
        if not self.may_yield:
            return
        for customer in customers:
            on_customer = set(Identity.objects.filter(customer=customer).values_list("pk", "kind"))
            observed = {pk for pk, _kind in on_customer if pk in self.found_ids}
            conflicting = {pk for pk, k in on_customer if k == kind and pk not in self.found_ids}
            merge = phone_link_between(customer=customer, observed=observed, conflicting=conflicting)
            if merge is not None:
                phone_link_yield(merge=merge, kind=kind)
                raise _Yielded

    def _conflict(self, kind: str, customer: Customer, other: Customer | None, value: str, other_value: str):
        IdentityConflict.objects.get_or_create(
            kind=kind,
            customer=customer,
            other=other,
            value=value[:128],
            other_value=other_value[:128],
            resolved_at=None,
        )
        self.result.conflicts.append(kind)

    def _attach(self, keep: Customer, new: list[tuple[str, str]]) -> None:
        held = _keys(keep)
        for kind, value in new:
            if kind in EXCLUSIVE_KINDS and held.get(kind) and value not in held[kind]:
                # Before anything is attached: a phone-only link may give way (and resolution start over).
                self._yield_weak_link(kind, keep)
        for kind, value in new:
            if kind in EXCLUSIVE_KINDS and held.get(kind) and value not in held[kind]:
                # A second unionid (or openid of the same app) for one person: refused, not stored.
                self._conflict(kind, keep, None, sorted(held[kind])[0], value)
                continue
            Identity.objects.create(
                customer=keep, kind=kind, value=value, display=self.wanted[(kind, value)][:64],
                verified=kind in self.verified, source=self.provenance, last_seen_at=self.now,
            )  # fmt: skip
            held.setdefault(kind, set()).add(value)

    def _join_by_phone(self, keep: Customer, holder: Customer, phone: Identity) -> Customer:
        """keep (named by strong keys) and holder (has the phone) are different records."""
        if phone.shared:
            return keep
        kind = exclusive_conflict(_keys(keep), _keys(holder))
        if kind:
            # Two people with different exclusive keys share this phone: it stops merging anyone.
            phone.shared = True
            phone.save(update_fields=["shared"])
            return keep
        if known_apart(a_ids=customer_members(customer_id=keep.pk), b_ids=customer_members(customer_id=holder.pk)):
            return keep
        older, newer = sorted([keep, holder], key=lambda c: (c.created_at, c.pk))
        if phone_may_merge(policy=phone_policy(), verified=phone.verified or "phone" in self.verified):
            reason = _("手机号 %(phone)s 相同") % {"phone": phone.display}
            customer_merge(keep=older, drop=newer, reason=reason, key=IdentityKind.PHONE, via=phone)
            self.result.merged.append(newer.pk)
            older.refresh_from_db()
            return older
        MergeSuggestion.objects.get_or_create(
            # The evidence is the phone both share (masked): either side may hold other phones too.
            customer=older,
            other=newer,
            defaults={"kind": IdentityKind.PHONE, "evidence": phone.display},
        )
        self.result.suggested.append(holder.pk)
        return keep

    def _attach_phone(self, keep: Customer, known: set, phone: Identity | None) -> Customer:
        for (kind, value), display in self.wanted.items():
            if kind not in SHARED_KINDS:
                continue
            if (kind, value) not in known:
                Identity.objects.create(
                    customer=keep, kind=kind, value=value, display=display[:64], verified=kind in self.verified,
                    source=self.provenance, last_seen_at=self.now,
                )  # fmt: skip
            elif phone is not None and kind in self.verified and not phone.verified and phone.customer_id == keep.pk:
                phone.verified = True
                phone.save(update_fields=["verified"])
        return keep

    def _fill(self, keep: Customer) -> None:
        fields = dict(self.defaults)
        if "store" in fields:  # accept both store=<Store> and store_id=<pk>
            store = fields.pop("store")
            fields["store_id"] = store.pk if store is not None else None
        # The portrait and admin search show the phone the observation carried.
        for (kind, value), display in self.wanted.items():
            if kind == IdentityKind.PHONE:
                fields.setdefault("phone_hash", value)
                fields.setdefault("phone_masked", display[:20])
        changed = []
        for name in FILLABLE:
            if name in fields and not blank_value(name, fields[name]) and blank_value(name, getattr(keep, name)):
                setattr(keep, name, fields[name])
                changed.append(name)
        if changed:
            keep.save(update_fields=[*changed, "updated_at"])
