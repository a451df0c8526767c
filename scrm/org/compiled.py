"""Hot model queries compiled to SQL once, then run with new parameters (#17).

It lives in org, the app every other builds on, so the session's user lookup and the sidebar's
customer queries can share it.

Building and compiling the sidebar's queries cost more CPU than running them (the customer lookup:
1.8 of 2.6 ms). The SQL is exactly what the queryset compiles to; only parameters equal to a marker
change per call: MARKER for a text value, the int markers below for ids, DT_MARKER* for datetimes.
Int markers are negative values inside a 32-bit column's range (Django answers "no rows" for an
out-of-range int instead of compiling it) that no id ever takes. Compiled queries live on the
connection object, which Django keeps per thread and per alias, so the backend converters they hold
always belong to the connection that runs them.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

MARKER = "\u2063scrm-compiled-marker\u2063"  # a value no caller ever looks up
CUSTOMER = -2_000_000_001
STAFF = -2_000_000_002
ID = -2_000_000_003
DT_MARKER = dt.datetime(1901, 2, 3, 4, 5, 6, 789_012, tzinfo=dt.UTC)
DT_MARKER_2 = dt.datetime(1901, 2, 3, 4, 5, 6, 789_013, tzinfo=dt.UTC)
DT_MARKER_3 = dt.datetime(1901, 2, 3, 4, 5, 6, 789_014, tzinfo=dt.UTC)
_DT_MARKERS = (DT_MARKER, DT_MARKER_2, DT_MARKER_3)
_MARKERS = (MARKER, CUSTOMER, STAFF, ID, *_DT_MARKERS)
_CACHE_ATTR = "_scrm_compiled_queries"
_MAX_PER_CONNECTION = 2000  # one per staff member; a runaway key set is dropped, not grown


def _marker_of(value: Any) -> Any:
    # Exact type checks: True == 1 and a date is not a datetime, so only the markers themselves match.
    for marker in _MARKERS:
        if type(value) is type(marker) and value == marker:
            return marker
    return None


class CompiledRows:
    """The rows of `queryset` as model instances (with select_related and annotations)."""

    def __init__(self, queryset: QuerySet) -> None:
        self.db = queryset.db
        compiler = queryset.query.get_compiler(using=self.db)
        try:
            self.sql, params = compiler.as_sql()
        except EmptyResultSet:  # e.g. .none(): no row for any value, and no query to run
            self.sql = None
            return
        self.params = list(params)
        # The backend may adapt a datetime param (SQLite: text); compare against the adapted markers too.
        ops = connections[self.db].ops
        adapted = [(ops.adapt_datetimefield_value(marker), marker) for marker in _DT_MARKERS]
        self.slots = []
        for i, value in enumerate(self.params):
            dt_marker = next((m for a, m in adapted if type(value) is type(a) and value == a), None)
            marker = dt_marker or _marker_of(value)
            if marker is not None:
                self.slots.append((i, marker))
        if not self.slots:
            raise ValueError("the queryset uses no marker")
        klass_info, select = compiler.klass_info, compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model = klass_info["model"]
        self.fields = slice(start, end)
        self.init_list = [column[0].target.attname for column in select[start:end]]
        self.related_populators = get_related_populators(klass_info, select, self.db)
        self.annotations = list(compiler.annotation_col_map.items())
        self.compiler = compiler
        self.converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])

    def _params(self, values: dict) -> list:
        params = list(self.params)
        ops = connections[self.db].ops
        for slot, marker in self.slots:
            value = values[marker]
            params[slot] = ops.adapt_datetimefield_value(value) if marker in _DT_MARKERS else value
        return params

    def all(self, values: dict) -> list[Model]:
        """Every row, with {marker: value} put in place of each marker."""
        if self.sql is None:
            return []
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, self._params(values))
            rows = cursor.fetchall()
        return self._instances(rows)

    def _instances(self, rows: list) -> list[Model]:
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        return [self._instance(row) for row in rows]

    def _instance(self, row) -> Model:
        obj = self.model.from_db(self.db, self.init_list, row[self.fields])
        for populator in self.related_populators:
            populator.populate(row, obj)
        for name, position in self.annotations:
            setattr(obj, name, row[position])
        return obj


class CompiledRow(CompiledRows):
    """The first row of `queryset` (the marker is MARKER, the customer lookup's external_userid)."""

    def first(self, value: Any) -> Model | None:
        if self.sql is None:
            return None
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, self._params({MARKER: value}))
            row = cursor.fetchone()
        return None if row is None else self._instances([row])[0]


def _compiled(kind: type, key: tuple, build, using: str):
    connection = connections[using]
    cache = getattr(connection, _CACHE_ATTR, None)
    if cache is None or len(cache) >= _MAX_PER_CONNECTION:
        cache = {}
        setattr(connection, _CACHE_ATTR, cache)
    compiled = cache.get((kind, key))
    if compiled is None:
        compiled = cache[(kind, key)] = kind(build())
    return compiled


def compiled_row(key: tuple, build, *, using: str = "default") -> CompiledRow:
    """The CompiledRow for `key` on this thread's connection, compiled from `build()` on first use."""
    return _compiled(CompiledRow, key, build, using)


def compiled_rows(key: tuple, build, *, using: str = "default") -> CompiledRows:
    """Like compiled_row, for a query of many rows and any of the markers."""
    return _compiled(CompiledRows, key, build, using)
