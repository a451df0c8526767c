"""Guide performance pages of the console: brand / store dashboards, a guide's page, CSV exports.

Figures come from scrm.analytics.selectors (daily rollups only); these views parse the query,
check who may see what, format numbers and lay out the trend chart.
"""

import datetime as dt
from urllib.parse import urlencode

from django.db.models import Min
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scrm.analytics.days import local_day
from scrm.analytics.figures import FIGURES, FIGURES_BY_KEY, Row
from scrm.analytics.models import GuideDay
from scrm.analytics.periods import PRESETS, Period
from scrm.analytics.selectors import (
    QUARTILE_MIN_GUIDES,
    Scope,
    guide_customers_page,
    guide_recent_events,
    guide_relations,
    guide_top_materials,
    performance_dashboard,
    performance_trend,
    quartiles,
    rows_sorted,
)
from scrm.console.charts import cells_html, format_value, line_chart, row_cells
from scrm.console.forms.performance import PeriodForm
from scrm.console.permissions import MANAGER_ROLES, console_required
from scrm.csv_export import csv_response
from scrm.customers.models import FollowRelation
from scrm.customers.selectors import customer_portrait, timeline_page
from scrm.org.auth import store_in_reach
from scrm.org.models import Staff, Store
from scrm.privacy.decorators import exports_logged
from scrm.privacy.models import AccessLog
from scrm.privacy.services import access_record

GUIDES_PER_PAGE = 50


# --- CSV ---------------------------------------------------------------------------------------


UNIT_SUFFIX = {"money": gettext_lazy("（元）"), "pct": gettext_lazy("（%）"), "seconds": gettext_lazy("（秒）")}


def figure_header() -> list[str]:
    """Column names with their unit: the cells below are plain numbers Excel can sum."""
    header = []
    for figure in FIGURES:
        label = f"{figure.label}{UNIT_SUFFIX.get(figure.unit, '')}"
        header += [label, _("%(label)s环比（%%）") % {"label": figure.label}]
    return header


def csv_number(unit: str, value):
    """A figure as a number for a spreadsheet (ratios in percent), "" when there is none."""
    if value is None:
        return ""
    if unit == "pct":
        return round(value * 100, 1)
    return value


def figure_csv_cells(row: Row) -> list:
    result = []
    for figure in FIGURES:
        change = row.change(figure.key)
        result += [csv_number(figure.unit, row.values[figure.key]), "" if change is None else round(change, 1)]
    return result


def csv_name(kind: str, scope_name: str, period: Period) -> str:
    """performance-上海南京西路店-2026-12-01_2026-12-05: what, whose, when."""
    return f"{kind}-{scope_name}-{period.first.isoformat()}_{period.last.isoformat()}"


# --- views -------------------------------------------------------------------------------------


def _today() -> dt.date:
    return local_day(timezone.now())


def _presets(request, *, drop: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """Links to each preset period, keeping the other parameters except those in `drop` (invalid ones)."""
    changes = dict.fromkeys(drop, "") | {"page": "", "from": "", "to": ""}
    return [
        (key, label, _query(request, **(changes | {"preset": key})))
        for key, label in PRESETS.items()
        if key != "custom"
    ]


def _parse(request) -> tuple[PeriodForm, HttpResponse | None]:
    form = PeriodForm(request.GET, today=_today())
    if form.is_valid():
        return form, None
    # Keep the date form on the page so the manager can correct the range in place.
    context = {
        "form": form,
        # A chip that kept the bad parameter would lead straight back here.
        "presets": _presets(request, drop=tuple(name for name in form.errors if name != "__all__")),
        "raw_from": request.GET.get("from", ""),
        "raw_to": request.GET.get("to", ""),
        "sort": request.GET.get("sort", "") if request.GET.get("sort") in FIGURES_BY_KEY else "",
        "dir": "asc" if request.GET.get("dir") == "asc" else "",
    }
    response = render(request, "console/performance_error.html", context, status=400)
    return form, response


def _query(request, **changes) -> str:
    params = {k: v for k, v in request.GET.items() if k not in ("format", "table", "partial")}
    params.update({k: v for k, v in changes.items() if v is not None})
    return "?" + urlencode({k: v for k, v in params.items() if v != ""})


def _trend_context(request, scope: Scope, period: Period, figure_key: str) -> dict:
    figure = FIGURES_BY_KEY[figure_key]
    points = performance_trend(scope=scope, period=period, figure=figure_key)
    return {
        "trend_figure": figure,
        "trend_points": points,
        "chart": line_chart(points, figure.unit),
        "trend_links": [(f, _query(request, trend=f.key), f.key == figure_key) for f in FIGURES],
        "trend_csv": _query(request, format="csv", table="trend"),
    }


def _trend_csv(figure_key: str, points, *, scope_name: str, period: Period) -> StreamingHttpResponse:
    figure = FIGURES_BY_KEY[figure_key]
    return csv_response(
        csv_name(f"trend-{figure_key}", scope_name, period),
        [_("日期"), f"{figure.label}{UNIT_SUFFIX.get(figure.unit, '')}"],
        ((day.isoformat(), csv_number(figure.unit, value)) for day, value in points),
    )


def _within_history(period: Period) -> tuple[Period, dt.date | None]:
    """A range reaching before the first rolled-up day starts there (and the page says so): counts of
    distinct customers need every day of the range, and days without rollups would make them shrink."""
    earliest = GuideDay.objects.aggregate(first=Min("day"))["first"]
    if earliest and period.first < earliest <= period.last:
        return Period(earliest, period.last), earliest
    return period, None


def _dashboard(request, *, store: Store | None):
    """A brand's or a store's board: parse the query, answer a trend CSV or partial, else read the board
    and answer it as CSV or as the page."""
    form, error = _parse(request)
    if error:
        return error
    data = form.cleaned_data
    period, history_from = _within_history(data["period"])
    sort, descending = data["sort"] or "gmv", (data["dir"] or "desc") == "desc"
    trend_key = data["trend"] or sort
    scope = Scope(store_id=store.pk if store else None)
    scope_name = store.name if store else str(_("全品牌"))
    if data["table"] == "trend":
        points = performance_trend(scope=scope, period=period, figure=trend_key)
        return _trend_csv(trend_key, points, scope_name=scope_name, period=period)
    if request.htmx and request.GET.get("partial") == "trend":
        return render(request, "console/_performance_trend.html", _trend_context(request, scope, period, trend_key))

    board = performance_dashboard(scope=scope, period=period)
    guides = rows_sorted(board.guides, key=sort, descending=descending)
    stores = rows_sorted(board.stores, key=sort, descending=descending)
    sides = quartiles(board.guides, period)
    if data["format"] == "csv":
        return _board_csv(
            data["table"], guides=guides, stores=stores, sides=sides, scope_name=scope_name, period=period
        )

    context = {
        "form": form,
        "period": period,
        "history_from": history_from,
        "previous": period.previous,
        "store": store,
        "presets": _presets(request),
        "preset": data["preset"],
        "figures": FIGURES,
        **_sort_headers(request, sort=sort, descending=descending),
        "total_cells": row_cells(board.total),
        **_guide_page(request, guides, page_no=data["page"] or 1),
        "store_rows": [(row, cells_html(row_cells(row))) for row in stores] if store is None else [],
        "csv_links": {t: _query(request, format="csv", table=t) for t in ("guides", "stores", "quartiles", "trend")},
        "quartiles": sides,
        "quartile_rows": quartile_table(sides)[1] if sides else [],
        "quartile_halves": bool(sides) and sides[0].label == str(_("GMV 前一半")),
        "min_guides": QUARTILE_MIN_GUIDES,
        "query": _query(request),
    }
    context |= _trend_context(request, scope, period, trend_key)
    return render(request, "console/performance.html", context)


def _board_csv(table: str, *, guides: list[Row], stores: list[Row], sides, scope_name: str, period: Period):
    """The board as CSV: its stores, its quartiles, or (by default) its guides."""
    if table == "stores":
        return csv_response(
            csv_name("stores", scope_name, period),
            [_("门店"), *figure_header()],
            ([r.name, *figure_csv_cells(r)] for r in stores),
        )
    if table == "quartiles":
        return csv_response(csv_name("quartiles", scope_name, period), *quartile_table(sides))
    return csv_response(
        csv_name("guides", scope_name, period),
        [_("导购"), _("门店"), *figure_header()],
        ([r.name, r.store_name, *figure_csv_cells(r)] for r in guides),
    )


def _sort_headers(request, *, sort: str, descending: bool) -> dict:
    """Column headers that sort the board by their figure (a second click flips the direction)."""
    return {
        "sort": sort,
        # Only ascending needs carrying: descending is the default.
        "dir": "" if descending else "asc",
        "descending": descending,
        "headers": [
            (
                f.label,
                _query(request, sort=f.key, dir="asc" if f.key == sort and descending else "desc", page=""),
                ("↓" if descending else "↑") if f.key == sort else "",
            )
            for f in FIGURES
        ],
    }


def _guide_page(request, guides: list[Row], *, page_no: int) -> dict:
    """One page of the guide leaderboard, with its neighbours' links."""
    pages = max(1, -(-len(guides) // GUIDES_PER_PAGE))
    page_no = min(page_no, pages)
    shown = guides[(page_no - 1) * GUIDES_PER_PAGE : page_no * GUIDES_PER_PAGE]
    return {
        "guide_rows": [(row, cells_html(row_cells(row))) for row in shown],
        "guide_count": len(guides),
        "page_no": page_no,
        "pages": pages,
        "prev_page": _query(request, page=page_no - 1) if page_no > 1 else "",
        "next_page": _query(request, page=page_no + 1) if page_no < pages else "",
    }


def quartile_table(sides) -> tuple[list[str], list[list[str]]]:
    header = [_("指标"), *(side.label for side in sides or ())]
    if not sides:
        return header, []
    lines = [
        (_("导购人数"), lambda s: str(len(s.guides))),
        (_("每周新增客户"), lambda s: format_value("float", s.adds_per_week)),
        (_("每位客户跟进次数"), lambda s: format_value("float", s.followups_per_customer)),
        (_("每位客户素材数"), lambda s: format_value("float", s.materials_per_customer)),
        (_("首次响应中位数"), lambda s: format_value("seconds", s.response_median)),
        (_("标签覆盖率"), lambda s: format_value("pct", s.tag_coverage)),
    ]
    return header, [[str(label), *(fmt(side) for side in sides)] for label, fmt in lines]


@console_required(roles=MANAGER_ROLES)
@exports_logged
def dashboard(request):
    """Admins: the brand; managers: their own store."""
    if request.staff.role == Staff.Role.MANAGER:
        if request.staff.store_id is None:
            return HttpResponse(_("您的账号还没有分配门店，请联系管理员"), status=403)
        return _dashboard(request, store=request.staff.store)
    return _dashboard(request, store=None)


@console_required(roles=MANAGER_ROLES)
@exports_logged
def store_detail(request, store_id: int):
    store = get_object_or_404(Store, pk=store_id)
    if not store_in_reach(request.staff, store.pk):
        raise Http404(_("没有这个门店"))
    return _dashboard(request, store=store)


def _guide_in_reach(request, staff_id: int) -> Staff:
    """The guide, if their store is in the viewer's reach (a 404 otherwise, as for a guide who does not exist)."""
    guide = get_object_or_404(Staff.objects.select_related("store"), pk=staff_id)
    if not store_in_reach(request.staff, guide.store_id):
        raise Http404(_("没有这个导购"))
    return guide


@console_required(roles=MANAGER_ROLES)
@exports_logged
def guide_detail(request, staff_id: int):
    guide = _guide_in_reach(request, staff_id)
    form, error = _parse(request)
    if error:
        return error
    data = form.cleaned_data
    period, history_from = _within_history(data["period"])
    scope = Scope(staff_id=guide.pk)
    trend_key = data["trend"] or "gmv"
    if data["format"] == "csv":
        return _guide_csv(data["table"], guide=guide, scope=scope, period=period, trend_key=trend_key)
    if request.htmx and request.GET.get("partial") == "trend":
        return render(request, "console/_performance_trend.html", _trend_context(request, scope, period, trend_key))

    board = performance_dashboard(scope=scope, period=period)
    row = board.guides[0] if board.guides else Row(guide.pk, guide.name)
    customers = guide_customers_page(staff=guide, page=request.GET.get("cpage") or 1)
    context = {
        "form": form,
        "guide": guide,
        "period": period,
        "history_from": history_from,
        "previous": period.previous,
        "preset": data["preset"],
        "presets": _presets(request),
        "figures": FIGURES,
        "cells": row_cells(row),
        "customers": customers,
        "customers_prev": _query(request, cpage=customers.previous_page_number()) if customers.has_previous() else "",
        "customers_next": _query(request, cpage=customers.next_page_number()) if customers.has_next() else "",
        "events": guide_recent_events(staff=guide),
        "materials": guide_top_materials(staff=guide, period=period),
        "csv_links": {t: _query(request, format="csv", table=t) for t in ("customers", "materials", "trend")},
        "query": _query(request),
    }
    context |= _trend_context(request, scope, period, trend_key)
    return render(request, "console/performance_guide.html", context)


def _guide_csv(table: str, *, guide: Staff, scope: Scope, period: Period, trend_key: str) -> HttpResponse:
    """A guide's page as CSV: the trend, their top materials, or (by default) their customers."""
    if table == "trend":
        points = performance_trend(scope=scope, period=period, figure=trend_key)
        return _trend_csv(trend_key, points, scope_name=guide.name, period=period)
    if table == "materials":
        return csv_response(
            csv_name("materials", guide.name, period),
            [_("素材"), _("发送次数"), _("触达客户")],
            ((m["material__title"], m["sends"], m["reach"]) for m in guide_top_materials(staff=guide, period=period)),
        )
    relations = guide_relations(staff=guide)
    return csv_response(
        f"customers-{guide.name}",
        [_("客户"), _("添加时间"), _("状态"), _("订单数"), _("累计消费（元）")],
        (
            (
                r.customer.name,
                timezone.localtime(r.added_at).strftime("%Y-%m-%d %H:%M"),
                r.get_ended_by_display() if r.ended_at else _("服务中"),
                r.customer.order_count,
                r.customer.total_spend,
            )
            for r in relations.iterator()
        ),
    )


@console_required(roles=MANAGER_ROLES)
def guide_customer(request, staff_id: int, customer_id: int):
    """A guide's customer as that guide sees them, read-only: the drill-down below a guide's figures.

    Same masking as the sidebar (identities and phone masked); only customers this guide serves or
    served, and only guides in the manager's reach.
    """
    guide = _guide_in_reach(request, staff_id)
    relation = (
        FollowRelation.objects.filter(staff=guide, customer_id=customer_id, customer__merged_into__isnull=True)
        .select_related("customer")
        .first()
    )
    if relation is None:
        raise Http404(_("这位导购没有服务过这位客户"))
    access_record(
        staff=request.staff,
        action=AccessLog.Action.VIEW,
        customer_id=customer_id,
        subject=_("管理后台"),
        request=request,
    )
    context = {
        "guide": guide,
        "relation": relation,
        "p": customer_portrait(staff=guide, customer=relation.customer),
        "page": timeline_page(customer=relation.customer),
    }
    return render(request, "console/guide_customer.html", context)
