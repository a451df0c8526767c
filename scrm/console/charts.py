"""Server-rendered inline SVG charts: no JavaScript, readable without colour (each bar has a title)."""

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


def bar_chart(
    points: list[tuple[str, int | Decimal]], *, width: int = 720, height: int = 180, every: int = 5
) -> BarChart:
    """Lay out one bar per point; every `every`-th point gets an x label."""
    left, top, bottom_pad = 48, 10, 22
    plot_h = height - top - bottom_pad
    plot_w = width - left - 6
    real_peak = max((float(v) for _, v in points), default=0)
    peak = real_peak or 1
    slot = plot_w / max(len(points), 1)
    bars, x_labels = [], []
    for i, (label, value) in enumerate(points):
        h = plot_h * float(value) / peak
        x = left + i * slot
        bars.append(Bar(x + slot * 0.15, top + plot_h - h, slot * 0.7, h, label, _fmt(value)))
        if i % every == 0 or i == len(points) - 1:
            x_labels.append((x + slot / 2, label))
    # With nothing to show, a lone zero line says so better than a made-up scale.
    ticks = [Tick(top + plot_h * (1 - f), _fmt(peak * f)) for f in ((0, 0.5, 1) if real_peak else (0,))]
    total = _fmt(sum((Decimal(str(v)) for _, v in points), Decimal(0)))
    return BarChart(width, height, left, top + plot_h, bars, ticks, x_labels, total)
