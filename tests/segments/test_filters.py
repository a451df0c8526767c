"""Segment filter semantics: each spec against a direct query (or a plain Python check) on one data set."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from scrm.customers.events import EventKind
from scrm.customers.models import Customer, IdentityKind, LifecycleStage
from scrm.segments.filters import customers_matching
from tests.factories import (
    CustomerFactory,
    CustomerTagFactory,
    EventFactory,
    FollowRelationFactory,
    IdentityFactory,
    OrderFactory,
    StaffFactory,
    StoreFactory,
    TagFactory,
)

NOW = timezone.now()


def _ago(**kw) -> dt.datetime:
    return NOW - dt.timedelta(**kw)


@pytest.fixture
def world(db):
    s1, s2 = StoreFactory(), StoreFactory()
    g1, g2 = StaffFactory(store=s1), StaffFactory(store=s2)
    vip, sale = TagFactory(name="VIP"), TagFactory(name="大促")
    c = {}
    c["loyal"] = CustomerFactory(
        store=s1, lifecycle_stage=LifecycleStage.LOYAL, order_count=6, total_spend=Decimal("3000"),
        first_order_at=_ago(days=400), last_order_at=_ago(days=10), birthday=dt.date(1990, 3, 5),
    )  # fmt: skip
    c["new"] = CustomerFactory(
        store=s1, lifecycle_stage=LifecycleStage.NEW, order_count=1, total_spend=Decimal("199"),
        first_order_at=_ago(days=20), last_order_at=_ago(days=20), birthday=dt.date(1995, 12, 1),
    )  # fmt: skip
    c["dormant"] = CustomerFactory(
        store=s2, lifecycle_stage=LifecycleStage.DORMANT, churn_risk=True, order_count=2, total_spend=Decimal("800"),
        first_order_at=_ago(days=500), last_order_at=_ago(days=300), next_expected_on=_ago(days=200).date(),
    )  # fmt: skip
    c["prospect"] = CustomerFactory(store=s2, lifecycle_stage=LifecycleStage.PROSPECT)
    c["carted"] = CustomerFactory(
        store=s1, lifecycle_stage=LifecycleStage.REPEAT, order_count=3, total_spend=Decimal("900")
    )
    c["carted_paid"] = CustomerFactory(store=s1, lifecycle_stage=LifecycleStage.REPEAT, order_count=4)
    c["old_cart"] = CustomerFactory(store=s2)
    c["merged"] = CustomerFactory(store=s1, lifecycle_stage=LifecycleStage.LOYAL)
    c["merged"].merged_into = c["loyal"]
    c["merged"].save()

    FollowRelationFactory(staff=g1, customer=c["loyal"], state="s1_poster")
    FollowRelationFactory(staff=g1, customer=c["new"], state="live_20251111")
    FollowRelationFactory(staff=g2, customer=c["dormant"], ended_at=_ago(days=5))  # no longer a friend
    FollowRelationFactory(staff=g2, customer=c["carted"], state="s1_poster")
    FollowRelationFactory(staff=g1, customer=c["carted_paid"])
    IdentityFactory(customer=c["dormant"], kind=IdentityKind.TMALL, value="tm-1")
    IdentityFactory(customer=c["new"], kind=IdentityKind.TMALL, value="tm-2")
    CustomerTagFactory(customer=c["loyal"], tag=vip)
    CustomerTagFactory(customer=c["loyal"], tag=sale)
    CustomerTagFactory(customer=c["new"], tag=sale)
    CustomerTagFactory(customer=c["dormant"], tag=vip)

    EventFactory(customer=c["carted"], kind=EventKind.ADD_TO_CART, occurred_at=_ago(hours=5))
    EventFactory(customer=c["carted_paid"], kind=EventKind.ADD_TO_CART, occurred_at=_ago(hours=30))
    OrderFactory(customer=c["carted_paid"], paid_at=_ago(hours=2))
    EventFactory(customer=c["old_cart"], kind=EventKind.ADD_TO_CART, occurred_at=_ago(hours=100))
    EventFactory(customer=c["new"], kind=EventKind.FOLLOW_OA, occurred_at=_ago(days=3))
    EventFactory(customer=c["loyal"], kind=EventKind.FOLLOW_OA, occurred_at=_ago(days=9))
    return {"c": c, "s1": s1, "s2": s2, "g1": g1, "g2": g2, "vip": vip, "sale": sale}


def _names(world, customers) -> set[str]:
    by_pk = {customer.pk: name for name, customer in world["c"].items()}
    return {by_pk[pk] for pk in customers.values_list("pk", flat=True)}


def _direct(world, predicate) -> set[str]:
    """The plain reading: every unmerged customer checked one by one in Python."""
    live = {c.pk: c for c in Customer.objects.filter(merged_into__isnull=True)}
    return {name for name, c in world["c"].items() if c.pk in live and predicate(live[c.pk])}


def _tag_names(c) -> set[str]:
    return {ct.tag.name for ct in c.customer_tags.all()}


def _friends(c) -> set[int]:
    return {r.staff_id for r in c.follow_relations.filter(ended_at__isnull=True)}


CASES = [
    ("stages", lambda w: {"stages": ["loyal", "new"]}, lambda w, c: c.lifecycle_stage in ("loyal", "new")),
    ("churn yes", lambda w: {"churn_risk": True}, lambda w, c: c.churn_risk),
    ("churn no", lambda w: {"churn_risk": False}, lambda w, c: not c.churn_risk),
    (
        "tags any",
        lambda w: {"tags_any": [w["vip"].pk, w["sale"].pk]},
        lambda w, c: bool(_tag_names(c) & {"VIP", "大促"}),
    ),
    ("tags all", lambda w: {"tags_all": [w["vip"].pk, w["sale"].pk]}, lambda w, c: {"VIP", "大促"} <= _tag_names(c)),
    ("guide", lambda w: {"guide": w["g1"].pk}, lambda w, c: w["g1"].pk in _friends(c)),
    ("ended relation is not served", lambda w: {"guide": w["g2"].pk}, lambda w, c: w["g2"].pk in _friends(c)),
    ("store", lambda w: {"store": w["s2"].pk}, lambda w, c: c.store_id == w["s2"].pk),
    (
        "state",
        lambda w: {"state": "s1_poster"},
        lambda w, c: c.follow_relations.filter(ended_at__isnull=True, state="s1_poster").exists(),
    ),
    (
        "first order from",
        lambda w: {"first_order_from": (NOW - dt.timedelta(days=30)).date().isoformat()},
        lambda w, c: (
            c.first_order_at is not None
            and timezone.localdate(c.first_order_at) >= (NOW - dt.timedelta(days=30)).date()
        ),
    ),
    (
        "last order to",
        lambda w: {"last_order_to": (NOW - dt.timedelta(days=100)).date().isoformat()},
        lambda w, c: c.last_order_at is not None and c.last_order_at < NOW - dt.timedelta(days=100),
    ),
    (
        "spend band",
        lambda w: {"spend_min": "500", "spend_max": "1000"},
        lambda w, c: Decimal(500) <= c.total_spend <= Decimal(1000),
    ),
    ("order count band", lambda w: {"orders_min": 2, "orders_max": 4}, lambda w, c: 2 <= c.order_count <= 4),
    (
        "overdue repurchase",
        lambda w: {"overdue_repurchase": True},
        lambda w, c: c.next_expected_on is not None and c.next_expected_on < NOW.date(),
    ),
    (
        "birthday month",
        lambda w: {"birthday_month": 12},
        lambda w, c: c.birthday is not None and c.birthday.month == 12,
    ),
    (
        "tmall but no wecom friend",
        lambda w: {"channels_has": ["tmall"], "channels_lacks": ["wecom_friend"]},
        lambda w, c: c.identities.filter(kind="tmall").exists() and not _friends(c),
    ),
    (
        "cart 48h, no order since",
        lambda w: {"events": [{"kind": "add_to_cart", "hours": 48, "no_order_since": True}]},
        lambda w, c: any(
            e.occurred_at >= NOW - dt.timedelta(hours=48) and not c.orders.filter(paid_at__gte=e.occurred_at).exists()
            for e in c.events.filter(kind="add_to_cart")
        ),
    ),
    (
        "cart 48h, orders or not",
        lambda w: {"events": [{"kind": "add_to_cart", "hours": 48}]},
        lambda w, c: c.events.filter(kind="add_to_cart", occurred_at__gte=NOW - dt.timedelta(hours=48)).exists(),
    ),
    (
        "follow_oa 7 days",
        lambda w: {"events": [{"kind": "follow_oa", "hours": 24 * 7}]},
        lambda w, c: c.events.filter(kind="follow_oa", occurred_at__gte=NOW - dt.timedelta(days=7)).exists(),
    ),
    (
        "combined",
        lambda w: {"store": w["s1"].pk, "tags_any": [w["sale"].pk], "orders_max": 1},
        lambda w, c: c.store_id == w["s1"].pk and "大促" in _tag_names(c) and c.order_count <= 1,
    ),
    ("empty spec: everyone unmerged", lambda w: {}, lambda w, c: True),
]


@pytest.mark.parametrize(("spec", "predicate"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_spec_selects_what_a_direct_query_selects(world, spec, predicate):
    found = _names(world, customers_matching(spec=spec(world), now=NOW))
    assert found == _direct(world, lambda c: predicate(world, c))


def test_known_answers_on_the_fixed_set(world):
    def names(spec):
        return _names(world, customers_matching(spec=spec, now=NOW))

    assert names({"events": [{"kind": "add_to_cart", "hours": 48, "no_order_since": True}]}) == {"carted"}
    assert names({"channels_has": ["tmall"], "channels_lacks": ["wecom_friend"]}) == {"dormant"}
    assert names({"tags_all": [world["vip"].pk, world["sale"].pk]}) == {"loyal"}
    assert "merged" not in names({})
