import datetime as dt
from decimal import Decimal

from django.template.loader import render_to_string

from scrm.analytics.figures import FIGURES_BY_KEY
from scrm.console.charts import bar_chart, line_chart, nice_scale


def test_bars_scale_to_the_peak_and_keep_exact_values():
    chart = bar_chart([("11/1", 0), ("11/2", 5), ("11/3", 10)], width=300, height=150)
    heights = [b.height for b in chart.bars]
    assert heights[0] == 0 and heights[2] == 2 * heights[1]
    assert chart.bars[2].y + chart.bars[2].height == chart.bottom
    assert [b.value for b in chart.bars] == ["0", "5", "10"]
    assert [t.label for t in chart.ticks] == ["0", "5", "10"]
    assert chart.total == "15"


def test_money_and_an_empty_series():
    chart = bar_chart([("a", Decimal("12.50")), ("b", Decimal("0"))])
    assert chart.bars[0].value == "12.50" and chart.total == "12.50"
    empty = bar_chart([("a", 0), ("b", 0)])
    assert [t.label for t in empty.ticks] == ["0"]
    assert all(b.height == 0 for b in empty.bars)


def test_count_axes_step_in_whole_numbers_and_money_axes_in_nice_steps():
    assert nice_scale(3, whole=True) == [0, 1, 2, 3]  # never 1.5 customers
    assert nice_scale(7, low=-3, whole=True) == [-5, 0, 5, 10]  # 净增长 can be negative
    assert nice_scale(62302, whole=False) == [0, 20000, 40000, 60000, 80000]
    chart = bar_chart([("a", 1), ("b", 3)])
    assert [t.label for t in chart.ticks] == ["0", "1", "2", "3"]


def test_the_trend_draws_text_and_points_outside_the_stretched_svg():
    days = [dt.date(2026, 12, d) for d in range(1, 6)]
    chart = line_chart(list(zip(days, [0, 3, -2, 5, 1], strict=True)), "count")
    assert [label for _y, _pct, label in chart.y_ticks] == ["-2", "0", "2", "4", "6"]
    assert all(0 <= d.left <= 100 and 0 <= d.top <= 100 for d in chart.dots)
    assert chart.dots[3].title == "12-04 5" and chart.dots[4].end
    html = render_to_string(
        "console/_performance_trend.html",
        {"chart": chart, "trend_figure": FIGURES_BY_KEY["net"], "trend_links": [], "trend_csv": "#"},
    )
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "<text" not in svg and "<circle" not in svg  # nothing a non-uniform stretch would distort
    assert html.count('class="perf-dot') == 5 and "<span>12-04 5</span>" in html
