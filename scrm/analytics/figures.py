"""The performance figures: summable raw parts, each figure's definition and formula over them,
and a leaderboard row holding both periods' parts. Pure: no queries.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from scrm.analytics.models import ADDITIVE, RESPONSE_BUCKETS, RESPONSE_FIELDS, SNAPSHOT, WINDOW_MEASURES

DISTINCT = WINDOW_MEASURES  # distinct-customer counts
PART_NAMES = ADDITIVE + SNAPSHOT + DISTINCT


class Parts(dict):
    """Summable raw parts of every figure, keyed by PART_NAMES."""

    @classmethod
    def empty(cls) -> "Parts":
        return cls.fromkeys(PART_NAMES, 0)

    def add(self, other: dict) -> "Parts":
        get = other.get
        for key in PART_NAMES:
            self[key] += get(key) or 0
        return self

    @classmethod
    def total(cls, items: Iterable[dict]) -> "Parts":
        result = cls.empty()
        for item in items:
            result.add(item)
        return result


def totals_sub(end, start) -> list[int] | None:
    if end is None:
        return None
    return [e - s for e, s in zip(end, start or [0] * len(end), strict=True)]


def ratio(num, den) -> float | None:
    return float(num) / float(den) if den else None


def response_median(parts: dict) -> int | None:
    """Upper bound (seconds) of the bucket holding the median first response."""
    counts = [parts[name] for name in RESPONSE_FIELDS]
    total = sum(counts)
    if not total:
        return None
    rank, seen = (total + 1) // 2, 0
    for bound, count in zip(RESPONSE_BUCKETS, counts, strict=True):
        seen += count
        if seen >= rank:
            return bound
    return RESPONSE_BUCKETS[-1]


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str  # count | money | pct | seconds
    compute: Callable[[dict], object]
    higher_is_better: bool = True
    uses_facts: bool = False
    # One line saying exactly what is counted, shown with the figure.
    definition: str = ""


FIGURES: list[Figure] = [
    Figure(
        "adds",
        _("新增客户"),
        "count",
        lambda p: p["adds"],
        definition=_("期间新加为企业微信好友的客户数（转接继承来的客户不计入）"),
    ),
    Figure(
        "losses",
        _("流失客户"),
        "count",
        lambda p: p["losses"],
        higher_is_better=False,
        definition=_("期间删除了导购的客户数"),
    ),
    Figure("net", _("净增长"), "count", lambda p: p["adds"] - p["losses"], definition=_("新增客户减流失客户")),
    Figure(
        "buyers",
        _("购买客户"),
        "count",
        lambda p: p["buyers"],
        uses_facts=True,
        definition=_("期间有有效订单的客户数（不论何时添加；门店与合计按导购累加）"),
    ),
    Figure(
        "converted",
        _("新客成交"),
        "count",
        lambda p: p["converted"],
        uses_facts=True,
        definition=_("期间新增、且在期间内下单的客户数（门店与合计按导购累加）"),
    ),
    Figure(
        "conversion",
        _("新客转化率"),
        "pct",
        lambda p: ratio(p["converted"], p["adds"]),
        uses_facts=True,
        definition=_("新客成交 ÷ 新增客户"),
    ),
    Figure("gmv", _("GMV"), "money", lambda p: Decimal(p["gmv"] or 0), definition=_("期间有效订单金额，扣除退款")),
    Figure("orders", _("订单数"), "count", lambda p: p["orders"], definition=_("期间支付且未全额退款的订单数")),
    Figure(
        "aov",
        _("客单价"),
        "money",
        lambda p: (Decimal(p["gmv"]) / p["orders"]).quantize(Decimal("0.01")) if p["orders"] else None,
    ),
    Figure(
        "repurchase",
        _("复购率"),
        "pct",
        lambda p: ratio(p["repeaters"], p["buyers"]),
        uses_facts=True,
        definition=_("购买客户中期间下单 2 次及以上的比例"),
    ),
    Figure("sends", _("素材发送"), "count", lambda p: p["sends"], definition=_("导购发给客户的素材次数")),
    Figure(
        "reach",
        _("素材触达客户"),
        "count",
        lambda p: p["reach"],
        uses_facts=True,
        definition=_("收到过素材的不同客户数（门店与合计按导购累加）"),
    ),
    Figure("notes", _("跟进记录"), "count", lambda p: p["notes"], definition=_("导购写下的跟进记录条数")),
    Figure(
        "overdue",
        _("逾期跟进"),
        "count",
        lambda p: p["overdue_followups"],
        higher_is_better=False,
        definition=_("期末已过下次联系日期、之后没有新跟进的客户数"),
    ),
    Figure(
        "tag_coverage",
        _("标签覆盖率"),
        "pct",
        lambda p: ratio(p["tagged_customers"], p["active_customers"]),
        definition=_("期末好友客户中有标签的比例"),
    ),
    Figure(
        "response",
        _("首次响应中位数"),
        "seconds",
        response_median,
        higher_is_better=False,
        definition=_("客户消息到导购首次回复的时间，取中位数"),
    ),
]
FIGURES_BY_KEY = {figure.key: figure for figure in FIGURES}


def figure_values(parts: dict) -> dict[str, object]:
    return {figure.key: figure.compute(parts) for figure in FIGURES}


class _Recorder(Parts):
    def __getitem__(self, key):
        self.seen.add(key)
        return super().__getitem__(key)


def figure_parts(key: str) -> set[str]:
    """The parts a figure reads, so a trend sums only those columns."""
    recorder = _Recorder.empty()
    recorder.seen = set()
    FIGURES_BY_KEY[key].compute(recorder)
    return recorder.seen


def change_pct(current, previous) -> float | None:
    """Relative change against the previous period, in percent; None when there is nothing to compare."""
    if current is None or previous is None or not previous:
        return None
    return (float(current) - float(previous)) / abs(float(previous)) * 100


@dataclass
class Row:
    """One leaderboard line (a guide, a store or the whole scope) with both periods' parts."""

    key: int | None
    name: str
    store_name: str = ""
    current: Parts = field(default_factory=Parts.empty)
    previous: Parts = field(default_factory=Parts.empty)
    # False for a guide who has left (离职): kept on the board, left out of the quartiles when idle.
    active: bool = True

    def __post_init__(self):
        self._values = self._prev_values = None

    @property
    def values(self) -> dict[str, object]:
        if self._values is None:
            self._values = figure_values(self.current)
        return self._values

    @property
    def previous_values(self) -> dict[str, object]:
        if self._prev_values is None:
            self._prev_values = figure_values(self.previous)
        return self._prev_values

    def change(self, key: str) -> float | None:
        return change_pct(self.values[key], self.previous_values[key])
