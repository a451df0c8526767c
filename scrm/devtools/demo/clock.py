"""Demo time: moments are kept as seconds before the anchor (local midnight of the seed day)."""

import random

DAY = 86400
HISTORY_DAYS = 540  # 18 months


def daytime(rng: random.Random, day: int) -> int:
    """Seconds-before-anchor of a moment between 09:30 and 22:00 on the day `day` days ago (day ≥ 1)."""
    return day * DAY - rng.randint(9 * 3600 + 1800, 22 * 3600)
