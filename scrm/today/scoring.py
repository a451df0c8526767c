"""The documented rank of a reminder: score = 100 × urgency × value × recency.

- urgency = kind weight × timing. Kind weights say what a good guide does first: a live intent
  (1.0), a promised follow-up (0.9), a headquarters 自动化任务 step (0.85), a birthday (0.8), a product
  running out (0.75), a repurchase date (0.7), a customer just handed over (0.6), a new churn risk
  (0.55), and last a customer who deleted the guide (0.1, to know, not to message; its timing
  stays 1). An intent is weighed by its strongest signal: a cart 1, a product viewed 0.75, only
  mini-program visits 0.5. Timing is 1 on the due day, falls as 1 / (1 + 0.25 × days ahead)
  before it and rises by 0.1 a day overdue (at most 2).
- value = 1 + log10(1 + total spend / 100): ¥0 → 1, ¥900 → 2, ¥9,900 → 3.
- recency = 0.5 + 0.5 × 2^(−hours since the trigger / 24): the fact behind the item (or, for
  date-driven kinds, the customer's latest activity) just now → 1, a day ago → 0.75, long ago → 0.5.
"""

import datetime as dt
import math
from decimal import Decimal

from scrm.today.models import ReminderKind

KIND_WEIGHT = {
    ReminderKind.INTENT: 1.0,
    ReminderKind.FOLLOW_UP: 0.9,
    ReminderKind.SOP: 0.85,
    ReminderKind.BIRTHDAY: 0.8,
    ReminderKind.REPLENISH: 0.75,
    ReminderKind.REPURCHASE: 0.7,
    ReminderKind.HANDOVER: 0.6,
    ReminderKind.CHURN: 0.55,
    ReminderKind.DELETED: 0.1,
}
RECENCY_HALF_LIFE_HOURS = 24


def timing(due_on: dt.date, today: dt.date) -> float:
    ahead = (due_on - today).days
    if ahead > 0:
        return 1 / (1 + 0.25 * ahead)
    return 1 + 0.1 * min(-ahead, 10)


def value(total_spend: Decimal) -> float:
    return 1 + math.log10(1 + max(float(total_spend), 0) / 100)


def recency(trigger_at: dt.datetime, now: dt.datetime) -> float:
    hours = max((now - trigger_at).total_seconds() / 3600, 0)
    return 0.5 + 0.5 * 2 ** (-hours / RECENCY_HALF_LIFE_HOURS)


def score(
    *,
    kind: str,
    due_on: dt.date,
    today: dt.date,
    total_spend: Decimal,
    trigger_at: dt.datetime,
    now: dt.datetime,
    strength: float = 1.0,
) -> float:
    urgency = KIND_WEIGHT[kind] * strength * (1.0 if kind == ReminderKind.DELETED else timing(due_on, today))
    return round(100 * urgency * value(total_spend) * recency(trigger_at, now), 3)
