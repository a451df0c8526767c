"""What an identity value may be: normalised per kind, and never a placeholder.

A broken client sends "undefined", "null" or "0" for an id it does not have; stored as a key, that one
value would fold every such person into one customer. Such values are refused, never stored.
"""

import re
import unicodedata

# Invisible characters a copy-paste or a broken client leaves around (zero-width space, BOM, …).
INVISIBLE = re.compile("[\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad]")
PLACEHOLDERS = frozenset(
    {
        "undefined", "null", "none", "nil", "nan", "(null)", "<null>", "[object object]",
        "0", "00", "-", "--", "—", "_", ".", "?", "n/a", "na", "unknown", "false", "true",
        "{}", "[]", '""', "''", "未知", "无", "空",
    }
)  # fmt: skip


class PlaceholderValue(ValueError):
    """The value is a placeholder (or empty once invisible characters are removed)."""


def identity_value_normalise(value: str) -> str:
    """Trimmed, full-width folded to half-width (NFKC), invisible characters removed.

    Raises PlaceholderValue for a value that names nobody. Case is kept: openids and unionids are
    case-sensitive, and shop account ids are matched as the shop sends them.
    """
    cleaned = INVISIBLE.sub("", unicodedata.normalize("NFKC", value)).strip()
    if not cleaned or cleaned.lower() in PLACEHOLDERS or set(cleaned) <= {"0"}:
        raise PlaceholderValue(value)
    return cleaned
