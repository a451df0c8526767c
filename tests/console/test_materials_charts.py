from decimal import Decimal

from scrm.console.charts import bar_chart


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
