"""The demo is a product's first impression: nothing in it may contradict itself where a user looks."""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from scrm.customers.events import EventKind
from scrm.devtools.demo import people, vocab
from scrm.devtools.demo.base import base_seed
from scrm.devtools.demo.seed import demo_anchor

pytestmark = pytest.mark.django_db
CUSTOMERS, EVENTS = 400, 8000


@pytest.fixture
def demo():
    """Every row of 400 demo customers, in memory (the generator is pure once the brand exists)."""
    anchor = demo_anchor(dt.date(2026, 12, 5))
    base = base_seed(now=anchor)
    ctx = people.Context(seed=42, base=base, anchor=anchor, now=timezone.now())
    plans, allowance = people.plan_all(seed=42, customers=CUSTOMERS, events=EVENTS)
    rows, next_order = people.Rows(), 1
    for i in range(CUSTOMERS):
        order_ids = list(range(next_order, next_order + plans[i].orders))
        next_order += plans[i].orders
        one = people.customer_generate(ctx, i, i + 1, order_ids, plans[i], allowance[i])
        for name in vars(rows):
            getattr(rows, name).extend(getattr(one, name))
    return ctx, rows


def _field(name: str, fields: list[str]) -> int:
    return fields.index(name)


def _events(rows, kind):
    kind_at, payload_at = _field("kind", people.EVENT_FIELDS), _field("payload", people.EVENT_FIELDS)
    return [(row, json.loads(row[payload_at])) for row in rows.events if row[kind_at] == kind]


def test_no_material_is_sent_outside_its_validity(demo):
    ctx, rows = demo
    materials = {m.id: m for m in ctx.materials}
    assert rows.sends
    for material_id, _staff, _customer, _status, _error, _key, sent_at in rows.sends:
        assert materials[material_id].valid_at(sent_at), (materials[material_id].title, sent_at)


def test_birthday_wishes_coupons_and_tasks_happen_on_the_birthday(demo):
    ctx, rows = demo
    birthdays = {row[0]: row[_field("birthday", people.CUSTOMER_FIELDS)] for row in rows.customers}
    at = _field("occurred_at", people.EVENT_FIELDS)
    title_at = _field("title", people.EVENT_FIELDS)
    kind_at = _field("kind", people.EVENT_FIELDS)
    # A note may mention the birthday any day (tested below); a wish, coupon or task only on the day.
    birthday_rows = [row for row in rows.events if "生日" in row[title_at] and row[kind_at] != EventKind.NOTE]
    assert len(birthday_rows) > 20
    for row in birthday_rows:
        birthday, day = birthdays[row[0]], timezone.localtime(row[at]).date()
        assert birthday and (day.month, day.day) == (birthday.month, birthday.day), row[title_at]
    script = next(m.id for m in ctx.materials if m.title == vocab.BIRTHDAY_MATERIAL)
    for material_id, _staff, customer_id, *_rest, sent_at in rows.sends:
        if material_id == script:
            day = timezone.localtime(sent_at).date()
            assert (day.month, day.day) == (birthdays[customer_id].month, birthdays[customer_id].day)


def test_notes_about_a_birthday_state_the_real_one(demo):
    _ctx, rows = demo
    birthdays = {row[0]: row[_field("birthday", people.CUSTOMER_FIELDS)] for row in rows.customers}
    said = [(customer_id, body) for customer_id, _staff, body, *_rest in rows.notes if "生日" in body]
    assert said
    for customer_id, body in said:
        month, day = map(int, re.search(r"(\d+)月(\d+)日", body).groups())
        assert (month, day) == (birthdays[customer_id].month, birthdays[customer_id].day)


def test_every_order_total_is_the_sum_of_its_lines(demo):
    _ctx, rows = demo
    totals: dict[int, Decimal] = {}
    for order_id, *_rest, amount in rows.lines:
        totals[order_id] = totals.get(order_id, Decimal(0)) + amount
    amount_at = _field("amount", people.ORDER_FIELDS)
    discounted = 0
    for row in rows.orders:
        assert totals[row[0]] == row[amount_at]
        lines = [line for line in rows.lines if line[0] == row[0]]
        discounted += sum(q * p for *_x, q, p, _a in lines) != row[amount_at]
    assert discounted  # some orders still carry a discount, spread over their lines


def test_a_live_code_state_only_comes_with_a_scanned_code(demo):
    _ctx, rows = demo
    way, state = _field("add_way", people.RELATION_FIELDS), _field("state", people.RELATION_FIELDS)
    assert any(row[state] for row in rows.relations)
    assert all(row[way] == 1 for row in rows.relations if row[state])
    for row, payload in _events(rows, EventKind.FRIEND_ADDED):
        assert ("活码" in row[_field("title", people.EVENT_FIELDS)]) == bool(payload["state"])


def test_a_guide_answers_about_the_product_asked(demo):
    _ctx, rows = demo
    chats = [p["content"] for _row, p in _events(rows, EventKind.CHAT_MESSAGE)]
    asked = [n for n, text in enumerate(chats[:-1]) if text == vocab.CHAT_PAIRS[0][0]]
    assert asked
    for n in asked:
        assert "精华" in chats[n + 1], chats[n + 1]


def test_seeded_events_read_like_the_ones_the_product_records(demo):
    """A seeded tag, note, add or chat reads like one made in the sidebar today (events.py's wording)."""
    _ctx, rows = demo
    tags = _events(rows, EventKind.TAG_ADDED)
    assert tags and all(
        row[_field("title", people.EVENT_FIELDS)].startswith("添加标签「") and "tag" in p for row, p in tags
    )
    adds = _events(rows, EventKind.FRIEND_ADDED)
    assert all(row[_field("title", people.EVENT_FIELDS)].endswith("为好友") for row, _p in adds)
    notes = _events(rows, EventKind.NOTE)
    assert all(row[_field("title", people.EVENT_FIELDS)] == p["body"].splitlines()[0][:80] for row, p in notes)
