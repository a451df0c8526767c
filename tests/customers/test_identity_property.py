"""Property (#12): any sequence of observations leaves no person with two values of an exclusive kind,
and the partition equals the documented rules computed offline (union-find that refuses conflicts)."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrm.customers.identity import customer_resolve
from scrm.customers.identity_keys import EXCLUSIVE_KINDS
from scrm.customers.models import Identity
from scrm.customers.services import phone_hash

pytestmark = pytest.mark.django_db

VALUES = {
    "unionid": ["u1", "u2", "u3"],
    "mp_openid": ["m1", "m2", "m3"],
    "tmall": ["t1", "t2", "t3"],
    "pos_member": ["p1", "p2"],
}
observation = st.dictionaries(st.sampled_from(sorted(VALUES)), st.integers(0, 2), min_size=1, max_size=4).map(
    lambda d: {kind: VALUES[kind][i % len(VALUES[kind])] for kind, i in d.items()}
)


def offline_partition(observations: list[dict[str, str]]) -> set[frozenset]:
    """The rules as documented: records join along keys, oldest first, unless a join (or an attach)
    would give one person two values of an exclusive kind. A person may hold several values of an
    account kind (two Tmall accounts), so a group is {kind: set of values}."""
    groups: list[dict[str, set[str]] | None] = []  # creation order = age; None once merged away
    owner: dict[tuple[str, str], int] = {}

    def conflict(a: dict, b: dict) -> bool:
        return any(a.get(k) and b.get(k) and a[k] != b[k] for k in EXCLUSIVE_KINDS)

    for obs in observations:
        found = sorted({owner[kv] for kv in obs.items() if kv in owner})
        if not found:
            groups.append({})
            found = [len(groups) - 1]
        keep = found[0]
        for other in found[1:]:
            if not conflict(groups[keep], groups[other]):
                for kind, values in groups[other].items():
                    for value in values:
                        owner[(kind, value)] = keep
                    groups[keep].setdefault(kind, set()).update(values)
                groups[other] = None
        for kind, value in obs.items():
            if (kind, value) in owner:
                continue
            if kind in EXCLUSIVE_KINDS and groups[keep].get(kind):
                continue  # refused: a second value of an exclusive kind
            groups[keep].setdefault(kind, set()).add(value)
            owner[(kind, value)] = keep
    parts: dict[int, set] = {}
    for kv, group in owner.items():
        parts.setdefault(group, set()).add(kv)
    return {frozenset(p) for p in parts.values()}


# Random draws, nothing stored between runs: a failure prints its blob (@reproduce_failure) to replay it.
# The draw that once failed here was the offline model's fault: it kept one value per kind, so a
# person's second Tmall account was lost from its group when that group merged.
@settings(
    max_examples=60,
    deadline=None,
    derandomize=False,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(observation, min_size=1, max_size=8))
def test_partition_never_holds_a_conflict_and_matches_the_rules(db, observations):
    with transaction.atomic():
        for obs in observations:
            customer_resolve(identities=[(k, v, "") for k, v in obs.items()], defaults={})
        parts: dict[int, set] = {}
        for customer_id, kind, value in Identity.objects.values_list("customer_id", "kind", "value"):
            parts.setdefault(customer_id, set()).add((kind, value))
        transaction.set_rollback(True)
    for keys in parts.values():
        kinds = [kind for kind, _value in keys if kind in EXCLUSIVE_KINDS]
        assert len(kinds) == len(set(kinds)), keys
    assert {frozenset(p) for p in parts.values()} == offline_partition(observations)


@pytest.mark.parametrize("policy", ["verified", "strict", "merge"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(observation, st.booleans(), st.booleans()), min_size=1, max_size=8))
def test_phones_never_put_two_exclusive_values_in_one_person(db, django_settings_policy, policy, steps):
    django_settings_policy.IDENTITY_PHONE_POLICY = policy
    with transaction.atomic():
        for obs, with_phone, verified in steps:
            rows = [(k, v, "") for k, v in obs.items()]
            if with_phone:
                rows.append(("phone", phone_hash("13800138000"), "138****8000"))
            customer_resolve(identities=rows, defaults={}, verified={"phone"} if verified else set())
        parts: dict[int, list] = {}
        for customer_id, kind in Identity.objects.filter(kind__in=EXCLUSIVE_KINDS).values_list("customer_id", "kind"):
            parts.setdefault(customer_id, []).append(kind)
        transaction.set_rollback(True)
    for kinds in parts.values():
        assert len(kinds) == len(set(kinds))


@pytest.fixture
def django_settings_policy(settings):
    return settings
