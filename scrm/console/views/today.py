"""今日 in the console: per guide and store, whether reminders are worked and whether they sell."""

import datetime as dt
from dataclasses import dataclass, field

from django import forms
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scrm.console.permissions import MANAGER_ROLES, console_required
from scrm.org.models import Staff, Store
from scrm.today.reports import GuideFigures, reminder_figures

PERIODS = [("1", _("今天")), ("7", _("近 7 天")), ("30", _("近 30 天"))]
SUMMED = ("due", "snoozed", "overdue", "done", "dismissed", "lapsed", "bought_after_done", "bought_after_lapse")


class ReportForm(forms.Form):
    days = forms.ChoiceField(
        choices=PERIODS, required=False, error_messages={"invalid_choice": _("统计周期只能是今天、近 7 天或近 30 天。")}
    )
    store = forms.ModelChoiceField(
        queryset=Store.objects.all(),
        required=False,
        error_messages={"invalid_choice": _("门店不存在。"), "invalid": _("门店不存在。")},
    )


@dataclass
class StoreBlock:
    store: Store | None
    rows: list[GuideFigures] = field(default_factory=list)
    total: GuideFigures | None = None


def _total(rows: list[GuideFigures]) -> GuideFigures:
    total = GuideFigures(staff=None)
    for row in rows:
        for name in SUMMED:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


@console_required(roles=MANAGER_ROLES)
def today_report(request):
    """Admins: every store (or one, ?store=); managers: their own store."""
    form = ReportForm(request.GET)
    if not form.is_valid():
        return render(request, "console/today.html", {"form": form, "blocks": []}, status=400)
    days = int(form.cleaned_data["days"] or 7)
    guides = Staff.objects.filter(role=Staff.Role.GUIDE, is_active=True).select_related("store")
    if request.staff.role == Staff.Role.MANAGER:
        guides = guides.filter(store_id=request.staff.store_id) if request.staff.store_id else guides.none()
    elif form.cleaned_data["store"]:
        guides = guides.filter(store=form.cleaned_data["store"])
    today = timezone.localdate()
    rows = reminder_figures(
        staff=list(guides.order_by("store__code", "name")), start=today - dt.timedelta(days=days - 1), end=today
    )
    blocks: dict[int | None, StoreBlock] = {}
    for row in rows:
        blocks.setdefault(row.staff.store_id, StoreBlock(store=row.staff.store)).rows.append(row)
    for block in blocks.values():
        block.total = _total(block.rows)
    context = {
        "form": form,
        "days": str(days),
        "periods": PERIODS,
        "blocks": list(blocks.values()),
        "grand": _total(rows) if len(blocks) > 1 else None,
        "stores": Store.objects.order_by("code") if request.staff.role == Staff.Role.ADMIN else [],
    }
    return render(request, "console/today.html", context)
