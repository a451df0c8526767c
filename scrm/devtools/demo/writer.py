"""Fast row writes for millions of demo rows: COPY on PostgreSQL, executemany elsewhere.

Rows are plain tuples in the column order given; ids that other rows point at are reserved up
front so one batch can be written table by table without reading anything back.
"""

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection, models

# One encoder for millions of payloads: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def json_text(value) -> str:
    return _ENCODER.encode(value)


class RowWriter:
    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self.skip_triggers: bool | None = None

    def _columns(self, model: type[models.Model], fields: Sequence[str]) -> list[str]:
        return [model._meta.get_field(name).column for name in fields]

    def bulk_mode(self) -> None:
        """Make this transaction cheap to load, on PostgreSQL; call first thing inside the batch's atomic().

        Commits need not wait for the WAL flush (a crash loses a batch, which the next run redoes),
        and, where the role may, per-row foreign-key triggers are skipped: the generator writes
        parents before children with reserved ids, and checking millions of rows one by one
        would cost more than writing them.
        """
        if not self.postgres:
            return
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            if self.skip_triggers is None:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                self.skip_triggers = bool(cursor.fetchone()[0])
            if self.skip_triggers:
                cursor.execute("SET LOCAL session_replication_role = replica")

    def bulk_done(self) -> None:
        """Back to normal checks for whatever else the surrounding transaction does."""
        if self.postgres and self.skip_triggers:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        """Ids no other writer will get; call inside the batch's transaction."""
        if count == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the transaction holds the write lock, so max(id) cannot move under us.
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
            start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))

    def write(self, model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in self._columns(model, fields))
        count = 0
        if self.postgres:
            with connection.cursor() as cursor:
                raw = cursor.cursor  # the psycopg 3 cursor, in Django's transaction
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            return count
        placeholders = ", ".join(["%s"] * len(fields))
        adapted = [tuple(self._adapt(v) for v in row) for row in rows]
        if adapted:
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", adapted)
        return len(adapted)

    @staticmethod
    def _adapt(value):
        if isinstance(value, dt.datetime):
            return connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, bool):
            return int(value)
        return value
