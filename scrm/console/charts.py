"""Server-rendered inline SVG charts: no JavaScript, readable without colour (each bar has a title).

Axes carry values on "nice" steps (1, 2, 5 × 10ⁿ), whole numbers for counts; each bar or point is
focusable, so a tap on a phone shows its value (CSS :focus), not only a desktop hover tooltip.
"""

import math
from dataclasses import dataclass
from decimal import Decimal


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
