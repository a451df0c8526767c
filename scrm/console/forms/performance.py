"""The query string of every performance page: period (preset or dates), sort and trend figure."""

import datetime as dt

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scrm.analytics.figures import FIGURES
from scrm.analytics.periods import MAX_RANGE_DAYS, PRESETS, period_for

# Figures exist from the brand's launch on; anything earlier or far ahead is a typo.
EARLIEST_DAY = dt.date(2000, 1, 1)
FIGURE_CHOICES = [(f.key, f.label) for f in FIGURES]


class PeriodForm(forms.Form):
    """The query string of every performance page; `from` and `to` arrive as first / last."""

    preset = forms.ChoiceField(label=gettext_lazy("时间段"), choices=list(PRESETS.items()), required=False)
    first = forms.DateField(label=gettext_lazy("开始日期"), required=False)
    last = forms.DateField(label=gettext_lazy("结束日期"), required=False)
    sort = forms.ChoiceField(label=gettext_lazy("排序"), choices=FIGURE_CHOICES, required=False)
    dir = forms.ChoiceField(label=gettext_lazy("排序方向"), choices=[("desc", "desc"), ("asc", "asc")], required=False)
    trend = forms.ChoiceField(label=gettext_lazy("趋势指标"), choices=FIGURE_CHOICES, required=False)
    page = forms.IntegerField(label=gettext_lazy("页码"), min_value=1, required=False)
    format = forms.ChoiceField(label=gettext_lazy("格式"), choices=[("", "html"), ("csv", "csv")], required=False)
    table = forms.ChoiceField(
        label=gettext_lazy("表格"),
        choices=[(t, t) for t in ("guides", "stores", "quartiles", "trend", "customers", "materials")],
        required=False,
    )

    def __init__(self, query, *, today: dt.date):
        data = {key: query.get(key, "") for key in ("preset", "sort", "dir", "trend", "page", "format", "table")}
        data |= {"first": query.get("from", ""), "last": query.get("to", "")}
        super().__init__(data)
        self.today = today

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        first, last = data.get("first"), data.get("last")
        preset = data.get("preset") or ("custom" if first or last else "7d")
        data["preset"] = preset
        if preset != "custom":
            data["period"] = period_for(preset=preset, today=self.today)
            return data
        if not first or not last:
            raise forms.ValidationError(_("自定义时间段需要同时填写开始日期和结束日期"))
        latest = _one_year_after(self.today)
        for day in (first, last):
            if day < EARLIEST_DAY:
                raise forms.ValidationError(_("日期不能早于 %(day)s") % {"day": EARLIEST_DAY.isoformat()})
            if day > latest:
                raise forms.ValidationError(_("日期不能晚于 %(day)s") % {"day": latest.isoformat()})
        if first > last:
            raise forms.ValidationError(_("开始日期不能晚于结束日期"))
        if last > self.today:
            raise forms.ValidationError(_("结束日期不能晚于今天"))
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise forms.ValidationError(_("时间段最长 %(days)s 天") % {"days": MAX_RANGE_DAYS})
        data["period"] = period_for(preset=preset, today=self.today, first=first, last=last)
        return data


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day + dt.timedelta(days=365)
