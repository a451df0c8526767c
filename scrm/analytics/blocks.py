"""Exact customer sets per guide over aligned blocks of days: distinct counts over any range.

A guide's customers are numbered (GuideCustomerSlot) and each block of 2**level days, aligned on the
day's ordinal, holds bitmaps of those numbers (Python ints, stored as little-endian bytes): who was
sent materials, who bought, who bought at least twice, who was added and has not ordered with the
guide since inside the block, plus how many adds converted inside the block. Two neighbouring blocks
merge exactly (`merge`), so a range is the merge of at most 2 × LEVELS blocks, oldest first, and
the figures equal the per-customer facts' counts (scrm.analytics.facts.distinct_counts). Level 0 is a
day, built from that day's GuideCustomerDay facts; each higher block merges its two halves.
Bitmaps, not HyperLogLog: a figure on the console is exactly what it says.
"""

import datetime as dt
from collections import defaultdict

from django.db.models import Max, Q

from scrm.analytics.models import GuideCustomerBlock, GuideCustomerDay, GuideCustomerSlot

Kind = GuideCustomerDay.Kind
LEVELS = 10  # blocks of 1 … 512 days: a range of MAX_RANGE_DAYS (731) is at most 18 blocks
# (reach, buyers, repeaters, pending adds, adds converted in the block). Pending adds are counted,
# not just flagged: a customer who removed the guide and added them again has two adds, and both
# convert with the next order (as two add facts do), so pending is a binary counter per customer,
# one bitmap per binary digit, lowest first (almost always a single digit).
Sets = tuple[int, int, int, tuple[int, ...], int]
EMPTY: Sets = (0, 0, 0, (), 0)
BITMAPS = ("reach", "buyers", "repeaters", "pending")


def _digits(values) -> tuple[int, ...]:
    values = list(values)
    while values and not values[-1]:
        values.pop()
    return tuple(values)


def _counter_add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """Per-customer sums of two pending counters (a bitwise ripple-carry adder)."""
    if not a or not b:
        return a or b
    if len(a) == len(b) == 1 and not a[0] & b[0]:
        return (a[0] | b[0],)
    out, carry = [], 0
    for i in range(max(len(a), len(b))):
        x, y = a[i] if i < len(a) else 0, b[i] if i < len(b) else 0
        out.append(x ^ y ^ carry)
        carry = (x & y) | (carry & (x ^ y))
    out.append(carry)
    return _digits(out)


def merge(left: Sets, right: Sets) -> Sets:
    """The sets of two adjacent blocks, `left` the earlier one.

    A customer bought twice if they did in either block or bought in both; an add still pending on
    the left converts when the customer orders on the right (every order there is after the add).
    """
    l_reach, l_buy, l_rep, l_pend, l_conv = left
    r_reach, r_buy, r_rep, r_pend, r_conv = right
    converted = l_conv + r_conv
    if l_pend and r_buy:
        converted += sum((digit & r_buy).bit_count() << i for i, digit in enumerate(l_pend))
        l_pend = _digits(digit & ~r_buy for digit in l_pend)
    return l_reach | r_reach, l_buy | r_buy, l_rep | r_rep | (l_buy & r_buy), _counter_add(l_pend, r_pend), converted


def counts(sets: Sets) -> tuple[int, int, int, int]:
    """(reach, buyers, repeaters, converted), in WINDOW_MEASURES order."""
    return sets[0].bit_count(), sets[1].bit_count(), sets[2].bit_count(), sets[4]


def block_start(day: dt.date, level: int) -> dt.date:
    n = day.toordinal()
    return dt.date.fromordinal(n - n % (1 << level))


def cover(first: dt.date, last: dt.date) -> list[tuple[int, dt.date]]:
    """The fewest aligned blocks (level, first day) making up [first, last], oldest first."""
    blocks, n, end = [], first.toordinal(), last.toordinal()
    while n <= end:
        level = 0
        while level + 1 < LEVELS and n % (2 << level) == 0 and n + (2 << level) - 1 <= end:
            level += 1
        blocks.append((level, dt.date.fromordinal(n)))
        n += 1 << level
    return blocks


def _bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "little")


def _int(value) -> int:
    return int.from_bytes(value, "little") if value else 0


def _pending_bytes(digits: tuple[int, ...]) -> tuple[bytes, bytes]:
    """The lowest digit as is; higher ones (rare) as 4-byte lengths and bytes."""
    if not digits:
        return b"", b""
    high = b"".join(len(b).to_bytes(4, "little") + b for b in map(_bytes, digits[1:]))
    return _bytes(digits[0]), high


def _pending_digits(low, high) -> tuple[int, ...]:
    if not high:
        return (int.from_bytes(low, "little"),) if low else ()
    digits, high, i = [_int(low)], bytes(high), 0
    while i < len(high):
        size = int.from_bytes(high[i : i + 4], "little")
        digits.append(_int(high[i + 4 : i + 4 + size]))
        i += 4 + size
    return _digits(digits)


def _row_sets(row: tuple) -> Sets:
    reach, buyers, repeaters, pending, pending_high, converted = row
    return _int(reach), _int(buyers), _int(repeaters), _pending_digits(pending, pending_high), converted


def blocks_read(*, staff_ids, blocks: list[tuple[int, dt.date]]) -> dict[int, dict[tuple[int, dt.date], Sets]]:
    """Per guide: the stored sets of the wanted blocks (missing blocks are empty). One query."""
    by_level = defaultdict(set)
    for level, first in blocks:
        by_level[level].add(first)
    if not by_level:
        return {}
    match = Q()
    for level, days in by_level.items():
        match |= Q(level=level, first_day__in=days)
    rows = GuideCustomerBlock.objects.filter(match, staff_id__in=staff_ids).values_list(
        "staff_id", "level", "first_day", *BITMAPS, "pending_high", "converted"
    )
    result: dict = defaultdict(dict)
    for staff_id, level, first, *sets in rows:
        result[staff_id][(level, first)] = _row_sets(sets)
    return result


def range_counts(stored: dict[tuple[int, dt.date], Sets], blocks: list[tuple[int, dt.date]]) -> tuple[int, ...]:
    """(reach, buyers, repeaters, converted) over `blocks` (a range's cover()) from a guide's blocks_read().

    `merge` folded over the blocks, written out: this runs for every guide and block of a board.
    """
    reach = buyers = repeaters = converted = 0
    pending: tuple[int, ...] = ()
    for block in blocks:
        part = stored.get(block)
        if part is None:
            continue
        r_reach, r_buy, r_rep, r_pend, r_conv = part
        reach |= r_reach
        repeaters |= r_rep | (buyers & r_buy)
        if pending and r_buy:
            converted += sum((digit & r_buy).bit_count() << i for i, digit in enumerate(pending))
            pending = _digits(digit & ~r_buy for digit in pending)
        buyers |= r_buy
        converted += r_conv
        pending = _counter_add(pending, r_pend)
    return reach.bit_count(), buyers.bit_count(), repeaters.bit_count(), converted


# --- writes ----------------------------------------------------------------------------------


def _slots(pairs: set[tuple[int, int]], slot_model=GuideCustomerSlot) -> dict[tuple[int, int], int]:
    """Each (staff_id, customer_id)'s number, numbering new customers after the guide's last."""
    if not pairs:
        return {}
    staff_ids, customer_ids = {p[0] for p in pairs}, {p[1] for p in pairs}
    known = {
        (s, c): slot
        for s, c, slot in slot_model.objects.filter(staff_id__in=staff_ids, customer_id__in=customer_ids).values_list(
            "staff_id", "customer_id", "slot"
        )
        if (s, c) in pairs
    }
    missing = sorted(pairs - known.keys())
    if missing:
        top = dict(
            slot_model.objects.filter(staff_id__in={s for s, _ in missing})
            .values("staff_id")
            .annotate(top=Max("slot"))
            .values_list("staff_id", "top")
        )
        new = []
        for staff_id, customer_id in missing:
            top[staff_id] = known[(staff_id, customer_id)] = top.get(staff_id, -1) + 1
            new.append(slot_model(staff_id=staff_id, customer_id=customer_id, slot=top[staff_id]))
        slot_model.objects.bulk_create(new, batch_size=1000)
    return known


def _fact_sets(kind: int, bit: int, n: int, day: dt.date, next_day: dt.date | None) -> Sets:
    if kind == Kind.SEND:
        return bit, 0, 0, 0, 0
    if kind == Kind.ORDER:
        return 0, bit, bit if n >= 2 else 0, 0, 0
    # An add converted the same day counts here; otherwise it waits for an order in a later block.
    return (0, 0, 0, (), 1) if next_day == day else (0, 0, 0, (bit,), 0)


def _or(a: Sets, b: Sets) -> Sets:
    """Two sets of the same day (a customer's facts of different kinds; one add fact a day at most)."""
    return a[0] | b[0], a[1] | b[1], a[2] | b[2], _counter_add(a[3], b[3]), a[4] + b[4]


def _block_row(staff_id: int, level: int, first: dt.date, sets: Sets, block_model=GuideCustomerBlock):
    pending, pending_high = _pending_bytes(sets[3])
    return block_model(
        staff_id=staff_id,
        level=level,
        first_day=first,
        reach=_bytes(sets[0]),
        buyers=_bytes(sets[1]),
        repeaters=_bytes(sets[2]),
        pending=pending,
        pending_high=pending_high,
        converted=sets[4],
    )


def customer_blocks_rollup(*, day: dt.date) -> int:
    """Rebuild the day's sets from its GuideCustomerDay facts and, for guides whose day changed, every
    block containing the day. Returns the number of guides whose day changed."""
    facts = list(
        GuideCustomerDay.objects.filter(day=day).values_list("staff_id", "customer_id", "kind", "n", "next_day")
    )
    slots = _slots({(f[0], f[1]) for f in facts})
    new: dict[int, Sets] = {}
    for staff_id, customer_id, kind, n, next_day in facts:
        part = _fact_sets(kind, 1 << slots[(staff_id, customer_id)], n, day, next_day)
        new[staff_id] = _or(new.get(staff_id, EMPTY), part)
    old = _level_rows(0, day, None)
    changed = {s for s in new.keys() | old.keys() if new.get(s, EMPTY) != old.get(s, EMPTY)}
    if not changed:
        return 0
    current = {s: new.get(s, EMPTY) for s in changed}
    writes = {(0, day): dict(current)}
    for level in range(1, LEVELS):
        start, child = block_start(day, level), block_start(day, level - 1)
        left = child == start
        sibling = child + dt.timedelta(days=1 << (level - 1)) if left else start
        others = _level_rows(level - 1, sibling, changed)
        for s in changed:
            other = others.get(s, EMPTY)
            current[s] = merge(current[s], other) if left else merge(other, current[s])
        writes[(level, start)] = dict(current)
    for (level, first), sets in writes.items():
        GuideCustomerBlock.objects.filter(level=level, first_day=first, staff_id__in=changed).delete()
        GuideCustomerBlock.objects.bulk_create(
            (_block_row(s, level, first, v) for s, v in sets.items() if v != EMPTY), batch_size=500
        )
    return len(changed)


def _level_rows(level: int, first: dt.date, staff_ids) -> dict[int, Sets]:
    rows = GuideCustomerBlock.objects.filter(level=level, first_day=first)
    if staff_ids is not None:
        rows = rows.filter(staff_id__in=staff_ids)
    return {
        staff_id: _row_sets(sets)
        for staff_id, *sets in rows.values_list("staff_id", *BITMAPS, "pending_high", "converted")
    }


def guide_blocks_rebuild(
    *, staff_ids=None, fact_model=GuideCustomerDay, slot_model=GuideCustomerSlot, block_model=GuideCustomerBlock
) -> int:
    """Renumber the guides' customers and rebuild all their blocks from the facts (every guide when
    staff_ids is None): after a bulk import, a repair, or the migration that added blocks.
    Returns the number of blocks written."""
    facts = fact_model.objects.order_by("staff_id", "day")
    slots, blocks = slot_model.objects.all(), block_model.objects.all()
    if staff_ids is not None:
        facts, slots, blocks = (q.filter(staff_id__in=staff_ids) for q in (facts, slots, blocks))
    slots.delete()
    blocks.delete()
    written = 0

    def flush(staff_id, numbers, days):
        nonlocal written
        slot_model.objects.bulk_create(
            (slot_model(staff_id=staff_id, customer_id=c, slot=n) for c, n in numbers.items()), batch_size=2000
        )
        level_sets = {day.toordinal(): sets for day, sets in days.items()}
        rows = []
        for level in range(LEVELS):
            if level:
                half = 1 << (level - 1)
                starts = {n - n % (1 << level) for n in level_sets}
                level_sets = {
                    n: merge(level_sets.get(n, EMPTY), level_sets.get(n + half, EMPTY)) for n in sorted(starts)
                }
            rows += [
                _block_row(staff_id, level, dt.date.fromordinal(n), v, block_model)
                for n, v in level_sets.items()
                if v != EMPTY
            ]
        block_model.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)

    staff_id, numbers, days = None, {}, {}
    for row in facts.values_list("staff_id", "customer_id", "kind", "n", "day", "next_day").iterator(chunk_size=5000):
        if row[0] != staff_id:
            if staff_id is not None:
                flush(staff_id, numbers, days)
            staff_id, numbers, days = row[0], {}, {}
        _, customer_id, kind, n, day, next_day = row
        bit = 1 << numbers.setdefault(customer_id, len(numbers))
        days[day] = _or(days.get(day, EMPTY), _fact_sets(kind, bit, n, day, next_day))
    if staff_id is not None:
        flush(staff_id, numbers, days)
    return written
