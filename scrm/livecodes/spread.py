"""Who answers a live code right now: the rules WeCom cannot express, as a pure computation.

`users_for` reads the code's members, today's counts and the clock, and answers the `user` list to
push to WeCom with the rule that decided it. It writes nothing; `livecode_sync` pushes and logs.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.livecodes.models import LiveCode, LiveCodeDayCount, LiveCodeDecision, SpreadMode
from scrm.org.models import Staff

Reason = LiveCodeDecision.Reason


@dataclass(frozen=True)
class Spread:
    users: list[str]
    reason: str  # a LiveCodeDecision.Reason, or "" when the plain membership decided
    detail: str = ""


def in_working_hours(code: LiveCode, at: dt.datetime) -> bool:
    """True when the code has no working hours, or `at` (local time) falls inside them.

    A range whose end is before its start runs over midnight (22:00–02:00)."""
    if code.work_start is None or code.work_end is None or code.work_start == code.work_end:
        return True
    now = timezone.localtime(at).time()
    if code.work_start < code.work_end:
        return code.work_start <= now < code.work_end
    return now >= code.work_start or now < code.work_end


def duty_guides(code: LiveCode) -> tuple[list[Staff], list[Staff]]:
    """(on-duty guides, backup guides), active ones only, in the order they answer."""
    members = list(code.members.select_related("staff").filter(staff__is_active=True))
    backups = [m.staff for m in members if m.backup]
    if code.spread_mode == SpreadMode.BY_STORE and code.store_id:
        duty = list(
            Staff.objects.filter(store_id=code.store_id, role=Staff.Role.GUIDE, is_active=True).order_by("userid")
        )
        backup_ids = {s.pk for s in backups}
        duty = [s for s in duty if s.pk not in backup_ids]
    else:
        duty = [m.staff for m in members if not m.backup]
    return duty, backups


def counts_today(code: LiveCode, day: dt.date) -> dict[int, int]:
    return dict(LiveCodeDayCount.objects.filter(code=code, day=day).values_list("staff_id", "count"))


def users_for(code: LiveCode, *, now: dt.datetime | None = None) -> Spread:
    now = now or timezone.now()
    duty, backups = duty_guides(code)
    if not in_working_hours(code, now):
        off = code.off_hours_guide
        if off is not None and off.is_active:
            return Spread([off.userid], Reason.HOURS, _("非工作时间，由 %(name)s 接待") % {"name": off.name})
        # No off-hours guide: the code keeps answering with its usual guides.
    counts = counts_today(code, timezone.localdate(now))
    cap = code.daily_cap
    available = [s for s in duty if cap is None or counts.get(s.pk, 0) < cap]
    capped = [s for s in duty if s not in available]
    reason, detail = "", ""
    if capped:
        reason = Reason.CAP_REACHED
        detail = _("%(names)s 今日已达上限 %(cap)s 人") % {"names": "、".join(s.name for s in capped), "cap": cap}
    if not available:
        if backups:
            return Spread([s.userid for s in backups], reason, detail + _("，由备用导购接待"))
        if not duty:
            return Spread([], reason or Reason.EDITED, _("没有在职的接待导购"))
        # WeCom needs someone: keep everyone rather than a dead code, and say so.
        return Spread([s.userid for s in duty], reason, detail + _("，且没有备用导购：仍由原导购接待"))
    if code.spread_mode == SpreadMode.SINGLE:
        return Spread([available[0].userid], reason, detail)
    if code.spread_mode == SpreadMode.LEAST_TODAY:
        least = min(counts.get(s.pk, 0) for s in available)
        chosen = [s for s in available if counts.get(s.pk, 0) == least]
        if len(chosen) < len(available) and not reason:
            reason = Reason.LEAST_TODAY
            detail = _("今日新增最少（%(n)s 人）：%(names)s") % {"n": least, "names": "、".join(s.name for s in chosen)}
        return Spread([s.userid for s in chosen], reason, detail)
    # Round robin and by store: everyone available; WeCom takes turns among a multi-person code.
    return Spread([s.userid for s in available], reason, detail)
