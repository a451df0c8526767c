"""自动化任务 (SOP rules) as 今日 items: which (customer, guide, occurrence) each enabled rule calls for now.

Evaluated inside `reminders_refresh` for the same batch of customers as the other rules, so the
incremental path (a friend added, an order paid: scrm.today.hooks) and the nightly pass (the days
moved) leave the same items, and the unique (kind, customer, guide, occurrence) keeps one item per
customer per rule occurrence. An occurrence is live from its day for the rule's `window_days`; a
customer who leaves the rule's segment, or a rule disabled, lets its live items lapse.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from django.utils import timezone

from scrm.customers.models import FollowRelation
from scrm.customers.services import LATE_CYCLES, NO_CYCLE_DORMANT_DAYS
from scrm.segments.filters import customers_matching
from scrm.today.models import ReminderKind, SopRule
from scrm.today.rules import CustomerFacts, Spec, next_birthday

Trigger = SopRule.Trigger
# (relation id, staff id, staff's store id, added_at) of a customer's active relations.
Relation = tuple[int, int, int | None, dt.datetime]


def dormant_since(f: CustomerFacts) -> dt.date | None:
    """The first day the customer counted as 沉睡 (the lifecycle rule of customer_refresh_figures)."""
    if f.last_order_at is None:
        return None
    last = timezone.localdate(f.last_order_at)
    if f.repurchase_cycle_days:
        return last + dt.timedelta(days=LATE_CYCLES * f.repurchase_cycle_days + 1)
    if f.purchase_days == 1:
        return last + dt.timedelta(days=NO_CYCLE_DORMANT_DAYS + 1)
    return None


def _occurrences(
    rule: SopRule, f: CustomerFacts, relations: list[Relation], today: dt.date
) -> Iterator[tuple[int, str, dt.date, int]]:
    """(staff id, occurrence, due day, n) the rule names for this customer, before the window check."""
    guides = sorted({staff_id for _rel, staff_id, _store, _at in relations})
    for n in rule.days:
        if rule.trigger == Trigger.FRIEND_ADDED:
            for rel_id, staff_id, _store, added_at in relations:
                yield staff_id, f"r{rel_id}:{n}", timezone.localdate(added_at) + dt.timedelta(days=n), n
            continue
        if rule.trigger == Trigger.REPURCHASE and f.next_expected_on:
            points = [(f.next_expected_on.isoformat(), f.next_expected_on - dt.timedelta(days=n))]
        elif rule.trigger == Trigger.BIRTHDAY and f.birthday:
            # The birthday still in reach: on or after the start of the longest window that can hold it.
            day = next_birthday(f.birthday, today - dt.timedelta(days=rule.window_days))
            points = [(day.isoformat(), day - dt.timedelta(days=n))]
        elif rule.trigger == Trigger.DORMANT and (since := dormant_since(f)):
            points = [(since.isoformat(), since + dt.timedelta(days=n))]
        elif rule.trigger == Trigger.ORDER_PAID:
            points = [
                (f"o{int(at.timestamp())}", timezone.localdate(at) + dt.timedelta(days=n)) for at in f.orders_paid_at
            ]
        else:
            points = []
        for key, due in points:
            for staff_id in guides:
                yield staff_id, f"{key}:{n}", due, n


def _relations(ids: list[int]) -> dict[int, list[Relation]]:
    found: dict[int, list[Relation]] = defaultdict(list)
    rows = FollowRelation.objects.filter(customer_id__in=ids, ended_at__isnull=True, staff__is_active=True)
    for rel_id, customer_id, staff_id, store_id, added_at in rows.values_list(
        "pk", "customer_id", "staff_id", "staff__store_id", "added_at"
    ):
        found[customer_id].append((rel_id, staff_id, store_id, added_at))
    return found


def _members(rule: SopRule, ids: list[int]) -> set[int]:
    if rule.segment is None:
        return set(ids)
    return set(customers_matching(spec=rule.segment.spec).filter(pk__in=ids).values_list("pk", flat=True))


def sop_specs(*, facts: dict[int, CustomerFacts], now: dt.datetime) -> list[tuple[int, Spec]]:
    """(customer id, spec) for every live occurrence of every enabled rule among these customers."""
    rules = list(SopRule.objects.filter(enabled=True).select_related("segment"))
    if not rules or not facts:
        return []
    today, ids = timezone.localdate(now), list(facts)
    relations = _relations(ids)
    # Per customer, guide and what happened (a relation, an order…): only the latest step of a series is
    # live, so day 3's item replaces day 1's instead of piling up beside it.
    latest: dict[tuple, tuple[int, Spec]] = {}
    for rule in rules:
        for customer_id in sorted(_members(rule, ids)):
            f = facts[customer_id]
            mine = [r for r in relations[customer_id] if rule.store_id is None or r[2] == rule.store_id]
            trigger_at = f.last_activity_at or f.last_order_at or now - dt.timedelta(days=365)
            for staff_id, occurrence, due, n in _occurrences(rule, f, mine, today):
                if not 0 <= (today - due).days < rule.window_days:
                    continue
                key = (customer_id, staff_id, rule.pk, occurrence.rsplit(":", 1)[0])
                if key in latest and latest[key][1].due_on >= due:
                    continue
                context = {"rule": rule.name, "rule_id": rule.pk, "trigger": rule.trigger, "n": n}
                spec = Spec(
                    kind=ReminderKind.SOP, staff_id=staff_id, occurrence=f"s{rule.pk}:{occurrence}", due_on=due,
                    trigger_at=trigger_at, context=context, material_id=rule.material_id,
                )  # fmt: skip
                latest[key] = (customer_id, spec)
    return list(latest.values())
