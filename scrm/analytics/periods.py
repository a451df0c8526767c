"""The periods a manager picks on the performance pages, and the period each is compared with."""

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

PRESETS = {
    "today": _("今日"),
    "7d": _("近7天"),
    "30d": _("近30天"),
    "month": _("本月"),
    "custom": _("自定义"),
}
MAX_RANGE_DAYS = 731


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date
    # 本月 (month to date): compared with the same days of the previous month, not the days before.
    month_to_date: bool = field(default=False, compare=False)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous(self) -> "Period":
        """The period of equal length that ends the day before this one starts.

        Computed on ordinals and clamped at date.min, so no input can raise OverflowError.
        Month to date instead compares with the same days of the previous month (clamped to its end).
        """
        if self.month_to_date and self.first.day == 1 and self.first > dt.date(dt.MINYEAR, 1, 31):
            end_of_last_month = self.first - dt.timedelta(days=1)
            return Period(
                end_of_last_month.replace(day=1),
                end_of_last_month.replace(day=min(self.last.day, end_of_last_month.day)),
            )
        last = max(self.first.toordinal() - 1, 1)
        first = max(last - (self.days - 1), 1)
        return Period(dt.date.fromordinal(first), dt.date.fromordinal(last))

    def each_day(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range(self.days)]


def period_for(*, preset: str, today: dt.date, first: dt.date | None = None, last: dt.date | None = None) -> Period:
    if preset == "today":
        return Period(today, today)
    if preset == "7d":
        return Period(today - dt.timedelta(days=6), today)
    if preset == "30d":
        return Period(today - dt.timedelta(days=29), today)
    if preset == "month":
        return Period(today.replace(day=1), today, month_to_date=True)
    if first is None or last is None:
        raise ValueError("custom periods need first and last")
    return Period(first, last)
