"""The 推荐 ranking of the sidebar's material tab, worked out in memory from a snapshot of the library.

Score = how many of the customer's tags a material targets + 1 when it targets their stage; ties go
to the more sent, then the newer id. Materials made only for other stages than the customer's come
after all the others (in the same order among themselves). Ranking in SQL joined and grouped a third
of the library on every tab open (~6 ms of a ~25 ms request at 10,000 materials); here it is a count
over the customer's tags' posting lists (~0.5 ms).

Each process keeps one snapshot of the published materials (ids, send counts, audience tags and
stages, validity windows: a few MB at 10,000 materials) and reloads it when
- the newest change to any material is newer than the snapshot (one index probe, at most once a
  second per process), so publishing, unpublishing or an edit shows on the next tab open, or
- it is older than MATERIAL_RANKING_TTL seconds: then only the send counts are read again (bumped
  on every send without touching updated_at), so popularity is at most that stale; every
  FULL_LOAD_EVERY TTLs it is read whole, which also catches a change the stamp missed (an edit saved
  before, but committed after, another one).
The snapshot only orders ids: the caller reads the page's rows with the sendable filter again, so a
material withdrawn meanwhile never shows, whatever the snapshot says.
"""

import datetime as dt
import heapq
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace

from django.conf import settings
from django.db.models import Max

from scrm.materials.models import Material

# (score, send_count, id): the list runs from the largest down.
Ranked = tuple[int, int, int]


@dataclass(frozen=True)
class Library:
    stamp: dt.datetime | None
    # When it was read whole, and when its send counts were last read (time.monotonic()).
    built_at: float
    loaded_at: float
    # Published ids, most sent first, ties to the newer id.
    popular: list[int]
    send_count: dict[int, int]
    tags: dict[int, tuple[int, ...]]
    postings: dict[int, list[int]]
    # Per stage: the ids targeting it, in popularity order, and the same as a set.
    by_stage: dict[str, list[int]]
    in_stage: dict[str, frozenset[int]]
    # Ids made for some stages only (the others are for everyone).
    staged: frozenset[int]
    # Only materials with a validity window.
    windows: dict[int, tuple[dt.datetime | None, dt.datetime | None]]

    def offered(self, pk: int, now: dt.datetime) -> bool:
        if pk not in self.send_count:
            return False  # unpublished since the snapshot was loaded
        window = self.windows.get(pk)
        if window is None:
            return True
        start, end = window
        return (start is None or start <= now) and (end is None or end > now)


# Materials made for other stages than the customer's rank below every material that fits them.
OFF_STAGE = 100
# Every this many TTLs the snapshot is read whole again rather than only its send counts.
FULL_LOAD_EVERY = 10
# The stamp is read at most this often (seconds) per process; material services mark their own
# writes, so only other processes' edits can take this long to show.
STAMP_EVERY = 1.0

_library: Library | None = None
_checked_at = 0.0
_lock = threading.Lock()


def _stamp() -> dt.datetime | None:
    # One probe of material_newest_change. Any status: unpublishing changes a row that leaves the list.
    return Material.objects.order_by().aggregate(changed=Max("updated_at"))["changed"]


def _load(stamp: dt.datetime | None) -> Library:
    rows = (
        Material.objects.filter(status=Material.Status.PUBLISHED)
        .order_by("-send_count", "-id")
        .values_list("id", "send_count", "audience_stages", "valid_from", "valid_until")
    )
    popular, send_count, windows = [], {}, {}
    by_stage: dict[str, list[int]] = {}
    for pk, count, stages, valid_from, valid_until in rows:
        popular.append(pk)
        send_count[pk] = count
        for stage in stages or ():
            by_stage.setdefault(stage, []).append(pk)
        if valid_from or valid_until:
            windows[pk] = (valid_from, valid_until)
    links = Material.audience_tags.through.objects.filter(material__status=Material.Status.PUBLISHED)
    tags: dict[int, list[int]] = {}
    postings: dict[int, list[int]] = {}
    for material_id, tag_id in links.order_by("tag_id").values_list("material_id", "tag_id"):
        if material_id in send_count:  # published after the rows above were read: next load
            tags.setdefault(material_id, []).append(tag_id)
            postings.setdefault(tag_id, []).append(material_id)
    now = time.monotonic()
    return Library(
        stamp=stamp,
        built_at=now,
        loaded_at=now,
        popular=popular,
        send_count=send_count,
        tags={pk: tuple(ids) for pk, ids in tags.items()},
        postings=postings,
        by_stage=by_stage,
        in_stage={stage: frozenset(ids) for stage, ids in by_stage.items()},
        staged=frozenset(pk for ids in by_stage.values() for pk in ids),
        windows=windows,
    )


def _repopularised(library: Library) -> Library:
    """The same snapshot with today's send counts: one index-only scan, ~10× cheaper than a load."""
    rows = (
        Material.objects.filter(status=Material.Status.PUBLISHED)
        .order_by("-send_count", "-id")
        .values_list("id", "send_count")
    )
    send_count = {pk: count for pk, count in rows if pk in library.send_count}
    place = {pk: i for i, pk in enumerate(send_count)}
    by_stage = {
        stage: sorted((pk for pk in ids if pk in place), key=place.__getitem__)
        for stage, ids in library.by_stage.items()
    }
    return replace(
        library, loaded_at=time.monotonic(), popular=list(send_count), send_count=send_count, by_stage=by_stage
    )


def _current(library: Library | None, stamp: dt.datetime | None) -> bool:
    # A change whose updated_at is older than the stamp can still commit after a load (saved before,
    # committed after another edit): read whole now and then so such a change shows anyway.
    return (
        library is not None
        and library.stamp == stamp
        and time.monotonic() - library.built_at < settings.MATERIAL_RANKING_TTL * FULL_LOAD_EVERY
    )


def _fresh(library: Library | None, stamp: dt.datetime | None) -> bool:
    return _current(library, stamp) and time.monotonic() - library.loaded_at < settings.MATERIAL_RANKING_TTL


def library_get() -> Library:
    """This process's snapshot, reloaded when the library changed or popularity is too old."""
    global _library, _checked_at
    library = _library
    now = time.monotonic()
    if (
        library is not None
        and now - _checked_at < STAMP_EVERY
        and now - library.loaded_at < settings.MATERIAL_RANKING_TTL
    ):
        return library  # a guide's taps in quick succession: the stamp was read a moment ago
    stamp = _stamp()
    _checked_at = now
    if _fresh(library, stamp):
        return library
    with _lock:  # threaded servers: one load at a time; the others then take it
        if not _fresh(_library, stamp):
            _library = _repopularised(_library) if _current(_library, stamp) else _load(stamp)
        return _library


def library_changed() -> None:
    """A material is being written: this process reads the stamp on its next ranking. (Called before
    the commit: at worst another thread reads the old stamp in between and the change waits STAMP_EVERY.)"""
    global _checked_at
    _checked_at = 0.0


def library_forget() -> None:
    """Drop the snapshot (tests start from an empty library)."""
    global _library, _checked_at
    _library, _checked_at = None, 0.0


def ranked_ids(
    *,
    tag_ids: Collection[int],
    stage: str,
    now: dt.datetime,
    stop: int,
    allowed: set[int] | None = None,
) -> tuple[list[int], dict[int, list[int]]]:
    """The first `stop` recommended ids, and which of the given tags each tagged one targets.

    `allowed` narrows the list to those ids (a search or a category); None offers the whole library.
    """
    library = library_get()
    counts: Counter[int] = Counter()
    for tag_id in tag_ids:
        counts.update(library.postings.get(tag_id, ()))
    in_stage = library.in_stage.get(stage, frozenset())

    def offered(pk: int) -> bool:
        return (allowed is None or pk in allowed) and library.offered(pk, now)

    staged = library.staged

    def score(pk: int, tags: int) -> int:
        if pk in staged and pk not in in_stage:
            return tags - OFF_STAGE  # made for other stages (a win-back script for a loyal customer)
        return tags + (pk in in_stage)

    # 1. Materials targeting one of the tags: scored, best `stop` kept.
    top: list[Ranked] = heapq.nlargest(
        stop, ((score(pk, n), library.send_count[pk], pk) for pk, n in counts.items() if offered(pk))
    )
    # 2. Materials targeting only the stage (score 1), read in popularity order; needed only while
    # the window is not full of materials scoring above 1.
    if len(top) < stop or top[-1][0] <= 1:
        stage_only = _first(library.by_stage.get(stage, ()), stop, lambda pk: pk not in counts and offered(pk))
        top = sorted(top + [(1, library.send_count[pk], pk) for pk in stage_only], reverse=True)[:stop]
    # 3. Materials for everyone (score 0) by popularity, while the window is short or holds some made
    # for other stages.
    if len(top) < stop or top[-1][0] < 0:
        rest = _first(library.popular, stop, lambda pk: pk not in counts and pk not in staged and offered(pk))
        top = sorted(top + [(0, library.send_count[pk], pk) for pk in rest], reverse=True)[:stop]
    # 4. Last, untagged materials made for other stages.
    if len(top) < stop:
        off = _first(
            library.popular,
            stop - len(top),
            lambda pk: pk not in counts and pk in staged and pk not in in_stage and offered(pk),
        )
        top += [(-OFF_STAGE, library.send_count[pk], pk) for pk in off]
    ids = [pk for _score, _count, pk in top]
    wanted = set(tag_ids)
    matched = {pk: [t for t in library.tags[pk] if t in wanted] for pk in ids if pk in counts}
    return ids, matched


def _first(ordered: Iterable[int], n: int, keep: Callable[[int], bool]) -> list[int]:
    """The first n ids of `ordered` that `keep` accepts."""
    found = []
    for pk in ordered:
        if keep(pk):
            found.append(pk)
            if len(found) >= n:
                break
    return found
