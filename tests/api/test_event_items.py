"""The events endpoint checks plainly right items without DRF (#12): whatever it accepts, the serializer
accepts too, with the very same data; everything else is left to the serializer and its messages."""

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from scrm.api.event_items import ItemChecker
from scrm.api.events import EventItemSerializer, _payload_ok

GOOD = {
    "id": "view-0001",
    "kind": "mp_product_view",
    "occurred_at": "2026-11-01T20:15:00+08:00",
    "channel": "mp",
    "identities": {"mp_openid": "oMP456", "unionid": "oUNION123"},
    "payload": {"product": "修护精华液 30ml"},
}

# Values around every edge the serializer draws: types, blanks, spaces, NUL, surrogates, lengths, placeholders.
texts = st.one_of(
    st.sampled_from(["", " ", "x", " x ", "x\x00", "\ud800", "null", "0", "-", "undefined", "a" * 120, "a" * 121]),
    st.sampled_from(["oMP456", "１２３", "\u200b", "\u200bx", "13800138000", "+86 138-0013-8000", "a" * 129]),
    st.text(max_size=6),
)
anything = st.one_of(texts, st.none(), st.integers(), st.booleans(), st.lists(st.integers(), max_size=1))
times = st.sampled_from(
    [
        "2026-11-01T20:15:00+08:00",
        "2026-11-01T20:15:00Z",
        "2026-11-01T20:15:00",
        " 2026-11-01T20:15:00+08:00",
        "1999-12-31T23:00:00+00:00",
        "2026-13-01T00:00:00+08:00",
        "2026-11-01",
        (timezone.now() + dt.timedelta(days=3)).isoformat(),
    ]
)
identities = st.dictionaries(
    st.sampled_from(["unionid", "mp_openid", "phone", "tmall", "wechat", "oa_openid"]), anything, max_size=3
)
payloads = st.one_of(
    st.none(),
    st.sampled_from([{}, [], "x", {"a": "\x00"}, {"phone": "13800138000"}, {"a": {"b": 1}}, {"big": "x" * 17000}]),
)
fields = {
    "id": anything,
    "kind": st.sampled_from(["mp_visit", "order_paid", "no_such_kind", "", 1]),
    "occurred_at": st.one_of(times, anything),
    "channel": st.sampled_from(["mp", "oa", "tmall", "nowhere", "", None]),
    "identities": st.one_of(identities, anything),
    "verified": st.one_of(st.lists(st.sampled_from(["phone", "unionid", "nope", 1]), max_size=3), anything),
    "title": anything,
    "payload": payloads,
    "staff_userid": anything,
    "extra": anything,
}
items = st.fixed_dictionaries({}, optional=fields).map(lambda d: {**GOOD, **d})


def serializer_answer(raw):
    try:
        return EventItemSerializer().run_validation(raw)
    except ValidationError:
        return "refused"


def test_a_plainly_right_item_is_accepted_as_the_serializer_reads_it():
    checker = ItemChecker(EventItemSerializer(), payload_ok=_payload_ok)
    raw = {
        **GOOD,
        "title": "  ",
        "verified": ["phone"],
        "staff_userid": "g01",
        "identities": {"phone": "138 0013 8000"},
    }

    assert checker.accept(raw) == serializer_answer(raw)
    assert checker.accept(raw)["occurred_at"].tzinfo is not None and checker.accept(raw)["title"] == ""


@pytest.mark.parametrize(
    "change",
    [
        {"identities": {"unionid": "null"}},  # a placeholder: the serializer names it
        {"kind": "order_paid"},  # the serializer points to the orders endpoint
        {"occurred_at": "2026-11-01T20:15:00"},  # naive
        {"payload": {"a": "\x00"}},
        {"id": " "},
    ],
)
def test_anything_not_plainly_right_is_left_to_the_serializer(change):
    checker = ItemChecker(EventItemSerializer(), payload_ok=_payload_ok)
    raw = {**GOOD, **change}

    assert checker.accept(raw) is None
    with pytest.raises(ValidationError):
        checker.check(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items)
def test_what_the_fast_check_accepts_the_serializer_accepts_with_the_same_data(raw):
    checker = ItemChecker(EventItemSerializer(), payload_ok=_payload_ok)
    fast = checker.accept(raw)
    if fast is not None:
        assert fast == serializer_answer(raw)
        assert list(fast) == list(serializer_answer(raw))
