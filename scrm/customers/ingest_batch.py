"""Events in bulk (#12): a batch from another system resolved set-wise, not item by item.

One query looks up every identity the batch names. Items whose identities all point at one customer,
and items whose identities are all new (each new person named the same way throughout the batch),
are stored in bulk: new customers and identities with one INSERT each, events with one
INSERT … ON CONFLICT (dedupe_key) DO NOTHING. Everything else — an item that would merge, attach, meet
a conflict, verify a phone, name an unknown guide — is left to `event_ingest`, one by one, which knows
every rule; so is the whole batch when the bulk write loses a race with another delivery.
"""

import datetime as dt
import json
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from scrm.customers.events import SCHEMA_VERSION, events_recorded
from scrm.customers.identity import DEADLOCK
from scrm.customers.identity_keys import SHARED_KINDS, strongest
from scrm.customers.identity_seen import identities_seen, seen_before, sql_in
from scrm.customers.identity_values import PlaceholderValue, identity_value_normalise
from scrm.customers.ingest import (
    _clean_payload,
    event_dedupe_key,
    event_default_title,
    identity_tuples,
)
from scrm.customers.models import Customer, Event, Identity
from scrm.org.models import Staff

logger = logging.getLogger(__name__)
_ATTEMPTS = 3

_EVENT_COLUMNS = (
    "customer",
    "kind",
    "occurred_at",
    "channel",
    "staff",
    "title",
    "payload",
    "schema",
    "dedupe_key",
    "via_identity_id",
    "created_at",
)

_ATTNAMES = ["id"] + [Event._meta.get_field(name).attname for name in _EVENT_COLUMNS]


@dataclass
class Stored:
    """What the bulk path did with one item (the others are left to event_ingest)."""

    event_id: int
    customer_id: int
    created: bool


@dataclass
class _Item:
    index: int
    data: dict
    keys: dict[tuple[str, str], str]  # (kind, value) → display
    dedupe_key: str
    staff_id: int | None = None
    customer_id: int | None = None
    via: int | None = None


def _keys(identities: dict[str, str]) -> dict[tuple[str, str], str] | None:
    """The item's identities as the resolver would store them, or None when only the slow path can say."""
    try:
        rows = identity_tuples(identities=identities)
    except ValidationError:
        return None
    keys = {}
    for kind, value, display in rows:
        try:
            keys[(kind, identity_value_normalise(value))] = display
        except PlaceholderValue:
            continue
    return keys or None


def _prepared(source: str, datas: list[dict]) -> tuple[list[_Item], set[tuple[str, str]]]:
    """The items the bulk path may take, and the identities of those it may not."""
    staff_ids = dict(
        Staff.objects.filter(userid__in={d.get("staff_userid") for d in datas if d.get("staff_userid")}).values_list(
            "userid", "pk"
        )
    )
    items, slow_keys = [], set()
    for index, data in enumerate(datas):
        keys = _keys(data["identities"])
        dedupe_key = event_dedupe_key(source=source, source_id=data["id"])
        userid = data.get("staff_userid", "")
        if keys is None or data.get("verified") or len(dedupe_key) > 200 or (userid and userid not in staff_ids):
            # The careful path verifies, or reports the error with its message.
            slow_keys.update(keys or ())
            continue
        items.append(_Item(index, data, keys, dedupe_key, staff_ids.get(userid)))
    return items, slow_keys


def _lookup(items: list[_Item], now) -> dict[tuple[str, str], tuple[int, int, bool, bool]]:
    """(kind, value) → (identity id, customer id, customer is live, last seen long enough ago to write
    again) for every identity the batch names: one statement (raw: compiling the ORM's OR of IN lists
    cost more than running it)."""
    by_kind: dict[str, set[str]] = {}
    for item in items:
        for kind, value in item.keys:
            by_kind.setdefault(kind, set()).add(value)
    if not by_kind:
        return {}
    where, params = [], [connection.ops.adapt_datetimefield_value(seen_before(now))]
    for kind, values in by_kind.items():
        sql, values_params = sql_in(sorted(values))
        where.append(f"(i.kind = %s AND i.value {sql})")
        params += [kind, *values_params]
    sql = (
        f"SELECT i.kind, i.value, i.id, i.customer_id, c.merged_into_id IS NULL, "
        f"(i.last_seen_at IS NULL OR i.last_seen_at < %s) "
        f"FROM {Identity._meta.db_table} i JOIN {Customer._meta.db_table} c ON c.id = i.customer_id "
        f"WHERE {' OR '.join(where)}"
    )
    if connection.vendor == "postgresql":
        # A merge holds its customers FOR UPDATE until it commits: wait for it, then see the customer as
        # merged (PostgreSQL re-reads a locked row) and leave the item to the resolver, instead of storing
        # the event on the customer the merge just emptied. In id order, as merges lock.
        sql += " ORDER BY c.id FOR SHARE OF c"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            (kind, value): (pk, customer_id, bool(live), seen) for kind, value, pk, customer_id, live, seen in cursor
        }


def _via(keys, ids: dict[tuple[str, str], int]) -> int | None:
    by_kind: dict[str, int] = {}
    for kv in keys:
        if kv in ids:
            by_kind.setdefault(kv[0], ids[kv])  # the first value of a kind, as a stable sort kept it
    return strongest(by_kind)


def _split(items: list[_Item], found, slow_keys: set) -> tuple[list[_Item], dict[frozenset, list[_Item]]]:
    """Items whose identities all name one (live) customer, and new people by their identity set."""
    known, new = [], {}
    owners: dict[tuple[str, str], frozenset] = {}
    for item in items:
        customers = {found[kv][1] for kv in item.keys if kv in found}
        if len(customers) == 1 and all(kv in found for kv in item.keys):
            item.customer_id = customers.pop()
            item.via = _via(item.keys, {kv: found[kv][0] for kv in item.keys})
            known.append(item)
        elif not customers:
            keyset = frozenset(item.keys)
            new.setdefault(keyset, []).append(item)
            for kv in keyset:
                owners.setdefault(kv, keyset)
        else:
            slow_keys.update(item.keys)  # joins or attaches: one by one
    # A key two different new sets share, or an item left to the resolver names, would join or
    # conflict: the resolver decides those, in order.
    clashing = {keyset for keyset in new for kv in keyset if owners[kv] != keyset or kv in slow_keys}
    clashing |= {owners[kv] for keyset in clashing for kv in keyset}
    # A customer merged away is the resolver's to follow.
    known = [item for item in known if all(found[kv][2] for kv in item.keys)]
    return known, {keyset: group for keyset, group in new.items() if keyset not in clashing}


def _create_people(new: dict[frozenset, list[_Item]], provenance: str, now) -> None:
    """One customer per new identity set, and its identities, in two INSERTs."""
    people = []
    for keyset, group in new.items():
        phone = next(((v, group[0].keys[(k, v)]) for k, v in keyset if k in SHARED_KINDS), None)
        people.append(
            Customer(
                source=group[0].data["channel"],
                phone_hash=phone[0] if phone else "",
                phone_masked=phone[1][:20] if phone else "",
            )
        )
    Customer.objects.bulk_create(people)
    identities = []
    for customer, (keyset, group) in zip(people, new.items(), strict=True):
        for kind, value in sorted(keyset):
            display = group[0].keys[(kind, value)][:64]
            identities.append(
                Identity(
                    customer=customer,
                    kind=kind,
                    value=value,
                    display=display,
                    source=provenance,
                    last_seen_at=now,
                )
            )
    Identity.objects.bulk_create(identities)
    ids = {(i.kind, i.value): i.pk for i in identities}
    for customer, (keyset, group) in zip(people, new.items(), strict=True):
        for item in group:
            item.customer_id, item.via = customer.pk, _via(keyset, ids)


def _event_row(source: str, item: _Item, now, titles: dict) -> tuple:
    """The item's values of _EVENT_COLUMNS."""
    data = item.data
    payload = _clean_payload(data.get("payload") or {})
    title = (data.get("title") or "").strip() or event_default_title(kind=data["kind"], payload=payload, cache=titles)
    payload = {"schema": SCHEMA_VERSION, **payload, "api_source": source, "api_id": data["id"]}
    return (
        item.customer_id, data["kind"], data["occurred_at"], data["channel"], item.staff_id, title[:200],
        payload, SCHEMA_VERSION, item.dedupe_key, item.via, now,
    )  # fmt: skip


def _insert_new(rows: list[tuple]) -> dict[str, int]:
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING; {dedupe_key: id} of the rows this statement stored."""
    if not rows:
        return {}
    fields = [Event._meta.get_field(name) for name in _EVENT_COLUMNS]
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    if connection.vendor == "postgresql":
        # The rows as one JSON parameter: a short statement whatever the batch size (psycopg splits a
        # statement with 11,000 placeholders in Python, and quotes array items one by one).
        columns_plain = [f.column for f in fields]  # the JSON keys json_to_recordset matches by name
        names = [connection.ops.quote_name(f.column) for f in fields]
        types = ", ".join(f"{name} {f.db_type(connection)}" for f, name in zip(fields, names, strict=True))
        source = f"SELECT {', '.join(names)} FROM json_to_recordset(%s::json) AS r({types})"
        params = [
            json.dumps([dict(zip(columns_plain, row, strict=True)) for row in rows], default=_iso, ensure_ascii=False)
        ]
    else:
        at = _EVENT_COLUMNS.index("payload")
        rows = [(*row[:at], json.dumps(row[at], ensure_ascii=False), *row[at + 1 :]) for row in rows]
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        source = f"VALUES {', '.join([row] * len(rows))}"
        params = [
            connection.ops.adapt_datetimefield_value(v) if isinstance(v, dt.datetime) else v for r in rows for v in r
        ]
    sql = f"INSERT INTO {table} ({columns}) {source} ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {dedupe_key: pk for pk, dedupe_key in cursor.fetchall()}


def _iso(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(type(value))


def events_ingest_bulk(*, source: str, datas: list[dict], provenance: str = "") -> dict[int, Stored]:
    """Store what can be stored in bulk; {index in datas: Stored}. Indexes missing from the answer are
    for event_ingest (they would merge, conflict, verify, or are wrong in a way it explains)."""
    items, slow_keys = _prepared(source, datas)
    for _attempt in range(_ATTEMPTS):
        try:
            return _bulk_once(source, items, slow_keys, provenance)
        except IntegrityError:
            # A concurrent batch created one of these new people first (PostgreSQL waited for it to
            # commit): looked up again, they are known now.
            logger.info("bulk event path met a concurrent batch; looking again")
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != DEADLOCK:
                raise
            logger.info("bulk event path met a concurrent merge (deadlock); looking again")
    return {}  # still racing: the careful path sorts it out, one by one


def _bulk_once(source: str, items: list[_Item], slow_keys: set, provenance: str) -> dict[int, Stored]:
    now = timezone.now()
    with transaction.atomic():
        found = _lookup(items, now)
        identities_seen(ids=[pk for pk, _c, _live, stale in found.values() if stale], now=now)
        known, new = _split(items, found, set(slow_keys))
        _create_people(new, provenance, now)
        todo = sorted(known + [item for group in new.values() for item in group], key=lambda item: item.index)
        titles: dict = {}
        rows = [_event_row(source, item, now, titles) for item in todo]
        answer, created = _answers(todo, rows, _insert_new(rows))
        # Inside the transaction: 今日 gathers what changed into one task when it commits.
        events_recorded(events=created)
    return answer


def _answers(todo: list[_Item], rows: list[tuple], stored: dict[str, int]) -> tuple[dict[int, Stored], list]:
    """Each item's Stored, and the events this statement created."""
    missing = {item.dedupe_key for item in todo} - set(stored)
    others = Event.objects.filter(dedupe_key__in=missing).values_list("dedupe_key", "pk", "customer_id")
    elsewhere = {key: (pk, customer_id) for key, pk, customer_id in others}
    first: dict[str, Stored] = {}
    answer: dict[int, Stored] = {}
    created = []
    for item, row in zip(todo, rows, strict=True):
        key = item.dedupe_key
        if key in first:  # the same id twice in one batch: the second is its duplicate
            answer[item.index] = Stored(first[key].event_id, first[key].customer_id, created=False)
        elif key in stored:
            # Positional (from_db), not keyword, construction: a tenth of the cost for 1,000 events.
            created.append(Event.from_db(connection.alias, _ATTNAMES, [stored[key], *row]))
            first[key] = answer[item.index] = Stored(stored[key], item.customer_id, created=True)
        elif key in elsewhere:  # a concurrent delivery stored it first
            first[key] = answer[item.index] = Stored(*elsewhere[key], created=False)
    return answer, created
