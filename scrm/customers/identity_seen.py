"""When an identity was last seen, and the raw SQL the ingestion hot paths share (#12).

`last_seen_at` tells an admin whether a key is still in use; it is written at most once per
LAST_SEEN_GRANULARITY per identity, not on every event or identify (a brand's known customers are seen
again and again within minutes, and each write is a row version and a lock). The write never waits:
an identity a concurrent resolution holds is being touched by it anyway.
"""

import datetime as dt
import json

from django.db import connection

from scrm.customers.models import Identity

LAST_SEEN_GRANULARITY = dt.timedelta(minutes=10)


def seen_stale(seen: dt.datetime | None, now: dt.datetime) -> bool:
    return seen is None or seen < seen_before(now)


def seen_before(now: dt.datetime) -> dt.datetime:
    """An identity last seen before this is written again when seen at `now`."""
    return now - LAST_SEEN_GRANULARITY


def sql_in(values: list, cast: str = "text") -> tuple[str, list]:
    """`IN (…)` for raw SQL. On PostgreSQL one JSON parameter: a short statement psycopg need not split
    (it does that in Python, per placeholder), and JSON is dumped in C where an array is quoted per value."""
    if connection.vendor == "postgresql":
        return f"IN (SELECT json_array_elements_text(%s::json)::{cast})", [json.dumps(list(values))]
    return f"IN ({', '.join(['%s'] * len(values))})", list(values)


def identities_seen(*, ids: list[int], now: dt.datetime) -> None:
    """Mark these identities seen at `now`, skipping any another transaction has locked."""
    if not ids:
        return
    table = Identity._meta.db_table
    where, params = sql_in(sorted(ids), "bigint")
    if connection.vendor == "postgresql":
        sql = (
            f"UPDATE {table} SET last_seen_at = %s WHERE id IN "
            f"(SELECT id FROM {table} WHERE id {where} FOR UPDATE SKIP LOCKED)"
        )
    else:
        sql = f"UPDATE {table} SET last_seen_at = %s WHERE id {where}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(now), *params])
