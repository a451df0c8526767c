"""Request fields that accept exactly what the schema says, and say it in the schema.

DRF coerces: 0 becomes "0" for a text field, "60" becomes 60 for a number. A client generated from
the schema would never send those, and a server that takes them hides client bugs; these fields
refuse a value of the wrong JSON type, and their schema carries the patterns they check.
"""

import datetime as dt
import re

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from scrm.text import is_utf8

# What Python's str.strip() removes, spelled out: ECMA's \s (JSON Schema) and Python's \s differ.
SPACE = r"\t\n\u000b\u000c\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# No NUL anywhere (PostgreSQL cannot store it); a required text has one visible character at least.
NO_NUL = r"^[^\u0000]*$"
NOT_BLANK = rf"^[^\u0000]*[^{SPACE}\u0000][^\u0000]*$"
MONEY = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"
# An identity value names someone: it holds a letter, a digit other than 0 or a CJK character (half or full
# width), so "0", "-" or "😀" never become a key; spelled-out placeholders ("null") are refused as a rule.
IDENTITY = r"^[^\u0000]*[1-9A-Za-z\u3400-\u9fff\uff11-\uff19\uff21-\uff3a\uff41-\uff5a][^\u0000]*$"
# A path segment we store as a key: no blanks, no slash.
KEY_SEGMENT = rf"^[^{SPACE}/\u0000]{{1,64}}$"


def key_matches(regex: str, value: str) -> bool:
    """Whether `value` matches a schema pattern the way JSON Schema reads it."""
    return re.fullmatch(regex, value) is not None


class StrictCharField(serializers.CharField):
    default_error_messages = {
        "pattern": _("格式不正确。"),
        "type": _("请使用字符串。"),
        "surrogate": _("含有无效的 Unicode 字符（单独的代理项 \\ud800–\\udfff）。"),
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("type")
        if not is_utf8(data):
            self.fail("surrogate")
        return super().to_internal_value(data)


class StrictRegexField(StrictCharField):
    """Text matching `regex` (also stated as the schema's pattern)."""

    def __init__(self, regex: str, message=None, **kwargs):
        self.regex = regex
        kwargs.setdefault("trim_whitespace", False)  # " SH001" does not match, as the pattern says
        super().__init__(**kwargs)
        if message:
            self.error_messages["pattern"] = message

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        # fullmatch: Python's $ also matches before a final newline, JSON Schema's does not.
        if not key_matches(self.regex, value):
            self.fail("pattern")
        return value


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an explicit offset; a naive time would be silently read as Beijing time."""

    default_error_messages = {
        "naive": _("时间必须带时区，例如 2026-11-01T08:00:00+08:00。"),
        "out_of_range": _("时间应在 2000 年之后，且不晚于现在起 1 天。"),
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        value = super().to_internal_value(value)
        # A typo'd year would skew the figures (a 2099 order is forever the last purchase).
        if value.year < 2000 or value > timezone.now() + dt.timedelta(days=1):
            self.fail("out_of_range")
        return value


def years_pattern() -> str:
    """The years a time may have, 2000 to this year (the schema is generated per request)."""
    years = "|".join(str(year) for year in range(2000, timezone.localdate().year + 1))
    return rf"^(?:{years})-"


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"type": _("请使用整数。")}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("type")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    """A choice of the same JSON type as the choices (gender 2, never "2")."""

    default_error_messages = {"type": _("类型不正确。")}

    def to_internal_value(self, data):
        kinds = {type(key) for key in self.choices}
        if isinstance(data, bool) or type(data) not in kinds:
            if data == "" and self.allow_blank:
                return ""
            self.fail("type")
        return super().to_internal_value(data)


class MoneyField(serializers.DecimalField):
    """Yuan as a string with at most two decimals ("598.00"): JSON numbers lose cents in some clients."""

    default_error_messages = {"money": _('金额请用字符串，最多 8 位整数和 2 位小数，例如 "598.00"。')}

    def __init__(self, **kwargs):
        super().__init__(max_digits=10, decimal_places=2, min_value=0, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.match(MONEY, data):
            self.fail("money")
        return super().to_internal_value(data)


class StrictCharFieldSchema(OpenApiSerializerFieldExtension):
    target_class = StrictCharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        field = self.target
        if isinstance(field, StrictRegexField):
            blank_ok = field.allow_blank and not re.match(field.regex, "")
            schema["pattern"] = f"^$|{field.regex}" if blank_ok else field.regex
        elif "pattern" not in schema and "enum" not in schema:
            schema["pattern"] = NO_NUL if field.allow_blank else NOT_BLANK
        return schema


class MoneyFieldSchema(OpenApiSerializerFieldExtension):
    target_class = MoneyField

    def map_serializer_field(self, auto_schema, direction):
        schema = build_basic_type(OpenApiTypes.STR)
        if direction == "request":
            schema["pattern"] = MONEY
        schema.update(format="decimal", example="598.00")
        return schema


class AwareDateTimeFieldSchema(OpenApiSerializerFieldExtension):
    target_class = AwareDateTimeField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["pattern"] = years_pattern()
            schema["description"] = "ISO 8601，带时区；2000 年之后，不晚于现在起 1 天"
        return schema
