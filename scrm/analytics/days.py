"""Calendar days in the shop's time zone (Asia/Shanghai): every rollup is keyed by one."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

ONE_DAY = dt.timedelta(days=1)


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_day(value: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar day of an aware datetime."""
    return value.astimezone(local_tz()).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = local_tz()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
