"""CSV downloads that are safe to open in Excel.

A cell starting with = + - @ (or a tab or carriage return) is a formula to Excel and WPS: a WeChat
nickname like `=cmd|' /C calc'!A0` would run when a manager opens the export. Such text cells get a
leading apostrophe (OWASP's advice); numbers stay numbers so they can be summed.
"""

import csv
from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import quote

from django.http import StreamingHttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Echo:
    def write(self, value):
        return value


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable[object]]) -> StreamingHttpResponse:
    """UTF-8 with a BOM so Excel shows Chinese headers and names; every cell through csv_cell."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + writer.writerow([csv_cell(h) for h in header])
        for row in rows:
            yield writer.writerow([csv_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    # RFC 6266: an ASCII fallback plus the UTF-8 name (store names are Chinese).
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}.csv\"; filename*=UTF-8''{quote(filename + '.csv')}"
    )
    return response
