"""Number formatting and server-rendered inline SVG charts (bars, the trend line): no JavaScript,
readable without colour (each bar has a title).

Axes carry values on "nice" steps (1, 2, 5 × 10ⁿ), whole numbers for counts; each bar or point is
focusable, so a tap on a phone shows its value (CSS :focus), not only a desktop hover tooltip.
"""

import datetime as dt
import functools
import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from scrm.analytics.figures import FIGURES, FIGURES_BY_KEY, Row
from scrm.money import yuan


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    bottom: float
    bars: list[Bar]
    ticks: list[Tick]
    x_labels: list[tuple[float, str]]
    total: str


def _fmt(value) -> str:
    if isinstance(value, Decimal):
        value = float(value)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def nice_scale(peak: float, *, whole: bool, low: float = 0.0, steps: int = 4) -> list[float]:
    """Tick values from `low` (≤ 0) to at least `peak`, 1, 2 or 5 × 10ⁿ apart; whole numbers when `whole`."""
    span = peak - low
    if span <= 0:
        return [0.0]
    raw = span / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if whole:
        step = max(1.0, math.ceil(step))
    first, last = math.floor(low / step + 1e-9), math.ceil(peak / step - 1e-9)
    return [round(step * i, 10) for i in range(first, last + 1)]


def _is_whole(values) -> bool:
    return all(float(v).is_integer() for v in values if v is not None)


def bar_chart(
    points: list[tuple[str, int | Decimal]], *, width: int = 720, height: int = 180, every: int = 5
) -> BarChart:
    """Lay out one bar per point; every `every`-th point gets an x label."""
    left, top, bottom_pad = 48, 10, 22
    plot_h = height - top - bottom_pad
    plot_w = width - left - 6
    real_peak = max((float(v) for _, v in points), default=0)
    scale = nice_scale(real_peak, whole=_is_whole(v for _, v in points))
    peak = scale[-1] or 1
    slot = plot_w / max(len(points), 1)
    bars, x_labels = [], []
    for i, (label, value) in enumerate(points):
        h = plot_h * float(value) / peak
        x = left + i * slot
        bars.append(Bar(x + slot * 0.15, top + plot_h - h, slot * 0.7, h, label, _fmt(value)))
        if i % every == 0 or i == len(points) - 1:
            x_labels.append((x + slot / 2, label))
    # With nothing to show, a lone zero line says so better than a made-up scale.
    ticks = [Tick(top + plot_h * (1 - v / peak), _fmt(v)) for v in scale]
    total = _fmt(sum((Decimal(str(v)) for _, v in points), Decimal(0)))
    return BarChart(width, height, left, top + plot_h, bars, ticks, x_labels, total)


# --- number formatting --------------------------------------------------------------------------


def tick_label(unit: str, value: float) -> str:
    """An axis value short enough for a 42 px gutter: 1.2万, ¥5,000, 30%, 2分."""
    if unit == "pct":
        return f"{value * 100:.0f}%"
    if unit == "seconds":
        return _("%(n)g分") % {"n": value / 60} if value >= 60 else _("%(n)g秒") % {"n": value}
    short = _("%(n)g万") % {"n": round(value / 10000, 1)} if value >= 10000 else f"{value:,.0f}"
    return f"¥{short}" if unit == "money" else short


def format_value(unit: str, value) -> str:
    if value is None:
        return "—"
    if unit == "money":
        return yuan(value)
    if unit == "pct":
        return f"{value * 100:.1f}%"
    if unit == "seconds":
        if value < 60:
            return _("≤%(n)s秒") % {"n": value}
        if value < 3600:
            return _("≤%(n)s分钟") % {"n": value // 60}
        return _("≤%(n)s小时") % {"n": value // 3600}
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


@dataclass(frozen=True)
class Cell:
    key: str
    label: str
    text: str
    change: str
    tone: str  # good | bad | "" — for colour; the arrow carries the meaning without colour


@functools.lru_cache(maxsize=8)
def _figure_labels(language: str | None) -> dict[str, str]:
    # Translated once per language, not once per cell (a board has 15 cells × 100 rows).
    return {figure.key: str(figure.label) for figure in FIGURES}


def cell(row: Row, key: str) -> Cell:
    figure = FIGURES_BY_KEY[key]
    label = _figure_labels(get_language())[key]
    text = format_value(figure.unit, row.values[key])
    change = row.change(key)
    if change is None or abs(change) < 0.05:
        return Cell(key, label, text, "—" if change is None else "0%", "")
    arrow = "▲" if change > 0 else "▼"
    good = (change > 0) == figure.higher_is_better
    return Cell(key, label, text, f"{arrow} {abs(change):.1f}%", "good" if good else "bad")


def row_cells(row: Row) -> list[Cell]:
    return [cell(row, figure.key) for figure in FIGURES]


def cells_html(cells: list[Cell]) -> SafeString:
    """A board row's figure cells as HTML, joined here: 16 cells × 100 rows through a template loop
    cost ~35 ms of the dashboard's time. Same markup as the loop it replaces."""
    # Every value is escaped here; tone is "good", "bad" or "".
    return mark_safe(
        "".join(
            f'<td class="num">{escape(c.text)}<br><em class="chg {c.tone}">{escape(c.change)}</em></td>' for c in cells
        )
    )


# --- trend chart -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dot:
    left: float  # percent of the plot's width
    top: float  # percent of the plot's height
    title: str
    end: bool  # near the right edge: its value box opens leftwards


@dataclass(frozen=True)
class LineChart:
    """The line is an SVG stretched to the card (preserveAspectRatio="none": one chart for 390 and 1280
    px); everything with text or a round shape is HTML placed in percent, so nothing is distorted."""

    width: int
    height: int
    points: str
    dots: list[Dot]
    y_ticks: list[tuple[float, float, str]]  # (svg y, percent from the top, label)
    x_first: str
    x_middle: str
    x_last: str
    empty: bool


def line_chart(points: list[tuple[dt.date, object]], unit: str, *, width: int = 720, height: int = 200) -> LineChart:
    top, bottom = 10, 4
    values = [float(v) if v is not None else None for _, v in points]
    known = [v for v in values if v is not None]
    # Counts can go below zero (净增长): the scale spans both sides of the axis.
    scale = nice_scale(max(known, default=0), low=min(known, default=0), whole=unit == "count")
    low, peak = scale[0], scale[-1]
    span = (peak - low) or 1
    step = width / max(len(points) - 1, 1)
    plot = height - top - bottom
    coords, dots = [], []
    for i, ((day, raw), value) in enumerate(zip(points, values, strict=True)):
        if value is None:
            continue
        x, y = i * step, top + plot * (peak - value) / span
        coords.append(f"{x:.1f},{y:.1f}")
        dots.append(
            Dot(
                round(100 * x / width, 2),
                round(100 * y / height, 2),
                f"{day:%m-%d} {format_value(unit, raw)}",
                x > width * 0.7,
            )
        )
    ticks = [
        (round(y, 1), round(100 * y / height, 2), tick_label(unit, tick))
        for tick in scale
        for y in [top + plot * (peak - tick) / span]
    ]
    middle = points[len(points) // 2][0] if len(points) > 2 else None
    return LineChart(
        width=width,
        height=height,
        points=" ".join(coords),
        # A tappable point per day while they stay apart on a phone.
        dots=dots if len(points) <= 62 else [],
        y_ticks=ticks,
        x_first=f"{points[0][0]:%Y-%m-%d}" if points else "",
        x_middle=f"{middle:%m-%d}" if middle else "",
        x_last=f"{points[-1][0]:%Y-%m-%d}" if points else "",
        empty=not known or not any(known),
    )


def adds_per_day_chart(rows: list, start: dt.date, end: dt.date):
    """Adds per day over [start, end], summed over the rows (days without adds count as 0)."""
    per_day: dict[dt.date, int] = {}
    for row in rows:
        for day, n in row.per_day.items():
            per_day[day] = per_day.get(day, 0) + n
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return bar_chart([(f"{d.month}/{d.day}", per_day.get(d, 0)) for d in days])
