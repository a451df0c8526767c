"""`demo_seed`: the brand, then customers in batches, each batch in one transaction.

A batch's customers are looked up by their external_userid first; those already present are
skipped whole (their rows were written in the same transaction), so a re-run inserts nothing and an
interrupted run resumes where it stopped.
"""

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers.models import (
    Customer,
    CustomerTag,
    Event,
    FollowRelation,
    Identity,
    IdentityKind,
    Note,
    Order,
    OrderLine,
)
from scrm.devtools.demo import people
from scrm.devtools.demo.base import base_seed
from scrm.devtools.demo.writer import RowWriter
from scrm.materials.models import Material, MaterialSend

BATCH = 1000


class DemoSeedConflict(Exception):
    """The database already holds demo customers made with another seed."""


@dataclass
class SeedResult:
    created: dict[str, int] = field(default_factory=dict)
    skipped_customers: int = 0
    seconds: float = 0.0


def demo_anchor(today: dt.date | None = None) -> dt.datetime:
    """Local midnight of the seed day: every generated moment lies before it."""
    today = today or timezone.localdate()
    return timezone.make_aware(dt.datetime.combine(today, dt.time.min))


def demo_seed(
    *,
    seed: int = 42,
    customers: int = 2000,
    events: int = 30000,
    today: dt.date | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> SeedResult:
    started = time.monotonic()
    other = Event.objects.filter(dedupe_key__startswith="demo:").exclude(dedupe_key__startswith=f"demo:{seed}:")
    if other.exists():
        raise DemoSeedConflict(_("数据库里已有用其他 --seed 生成的演示数据，请换回原来的 seed 或使用新数据库。"))

    now = timezone.now()
    anchor = demo_anchor(today)
    with transaction.atomic():
        base = base_seed(now=anchor)
    result = SeedResult(created=dict(base.created))
    ctx = people.Context(seed=seed, base=base, anchor=anchor, now=now)
    plans, allowance = people.plan_all(seed=seed, customers=customers, events=events)
    writer = RowWriter()
    totals = dict.fromkeys(
        ("customers", "identities", "relations", "customer_tags", "notes", "orders", "lines", "events", "sends"), 0
    )

    for start in range(0, customers, BATCH):
        indexes = range(start, min(start + BATCH, customers))
        keys = {people.external_userid(seed, i): i for i in indexes}
        existing = set(
            Identity.objects.filter(kind=IdentityKind.WECOM, value__in=list(keys)).values_list("value", flat=True)
        )
        todo = [i for key, i in keys.items() if key not in existing]
        result.skipped_customers += len(indexes) - len(todo)
        if not todo:
            continue
        with transaction.atomic():
            writer.bulk_mode()
            customer_ids = writer.reserve_ids(Customer, len(todo))
            order_ids = iter(writer.reserve_ids(Order, sum(plans[i].orders for i in todo)))
            rows = people.Rows()
            for i, customer_id in zip(todo, customer_ids, strict=True):
                own_orders = [next(order_ids) for _ in range(plans[i].orders)]
                one = people.customer_generate(ctx, i, customer_id, own_orders, plans[i], allowance[i])
                for name in totals:
                    getattr(rows, name).extend(getattr(one, name))
            # Parents first: every table here only points at tables written before it.
            for name, model, fields in (
                ("customers", Customer, people.CUSTOMER_FIELDS),
                ("identities", Identity, people.IDENTITY_FIELDS),
                ("relations", FollowRelation, people.RELATION_FIELDS),
                ("customer_tags", CustomerTag, people.CUSTOMER_TAG_FIELDS),
                ("notes", Note, people.NOTE_FIELDS),
                ("orders", Order, people.ORDER_FIELDS),
                ("lines", OrderLine, people.LINE_FIELDS),
                ("events", Event, people.EVENT_FIELDS),
                ("sends", MaterialSend, people.SEND_FIELDS),
            ):
                totals[name] += writer.write(model, fields, getattr(rows, name))
            writer.bulk_done()
        log(_("已生成 %(done)d / %(total)d 位客户") % {"done": indexes.stop, "total": customers})

    if totals["sends"]:
        # Derived from the send log, so recomputing it on a re-run changes nothing.
        counts = dict(MaterialSend.objects.values_list("material").annotate(n=Count("id")).values_list("material", "n"))
        for material in Material.objects.filter(pk__in=counts):
            Material.objects.filter(pk=material.pk).update(send_count=counts[material.pk])
    result.created.update(totals)
    result.seconds = time.monotonic() - started
    return result
