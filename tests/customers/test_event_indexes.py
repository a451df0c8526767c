"""The timeline stays one index range scan however long a customer's history is (#17)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scrm.customers.events import Channel, EventKind
from scrm.customers.models import Event
from scrm.customers.selectors import timeline_page
from tests.factories import CustomerFactory, StoreFactory

pytestmark = pytest.mark.django_db


def _history(customer, n: int, *, prefix: str) -> None:
    start = timezone.now() - dt.timedelta(days=3 * 365)
    Event.objects.bulk_create(
        Event(
            customer=customer,
            kind=EventKind.MP_PRODUCT_VIEW,
            channel=Channel.MP,
            occurred_at=start + dt.timedelta(minutes=37 * i),
            title="浏览了 精华液 30ml",
            dedupe_key=f"{prefix}:{i}",
        )
        for i in range(n)
    )


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _timeline_sql(**kwargs) -> tuple[str, tuple]:
    with CaptureQueriesContext(connection) as ctx:
        page = timeline_page(**kwargs)
    (query,) = [q for q in ctx.captured_queries if "customers_event" in q["sql"]]
    return query["sql"], page


def test_timeline_of_a_long_history_walks_the_newest_first_index_without_sorting():
    if connection.vendor != "postgresql":
        pytest.skip("the query plan is PostgreSQL's")
    store = StoreFactory()
    busy = CustomerFactory(store=store)
    _history(busy, 20_000, prefix="busy")
    for n in range(40):  # many small customers, as in a real brand
        _history(CustomerFactory(store=store), 50, prefix=f"small{n}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_event")

    first_sql, page = _timeline_sql(customer=busy)
    deep_sql, _page = _timeline_sql(customer=busy, after=page.next_cursor)
    for sql in (first_sql, deep_sql):
        # EXPLAIN on the exact SQL the ORM ran (parameters inlined by the capture are fine to re-run).
        plan = _plan(sql, None)
        assert "event_customer_newest" in plan, plan
        assert "Sort" not in plan, plan


def test_redundant_event_indexes_are_gone_and_dedupe_key_stays_unique():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Event._meta.db_table)
    single = {tuple(c["columns"]) for c in constraints.values() if c["index"] and not c["unique"]}
    assert ("customer_id",) not in single
    assert ("staff_id",) not in single
    assert not any(name.endswith("_like") for name in constraints)
    assert any(c["unique"] and c["columns"] == ["dedupe_key"] for c in constraints.values())
