"""Writes: saving a segment and the daily count snapshot behind its trend."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.org.models import Staff
from scrm.segments.models import Segment, SegmentCount
from scrm.segments.selectors import segment_count


def segment_create(*, name: str, spec: dict, staff: Staff) -> Segment:
    """A manager's segment counts their store's customers; an admin's the whole brand."""
    name = name.strip()
    if not name:
        raise ValidationError(_("请填写分群名称。"))
    store_id = None if staff.role == Staff.Role.ADMIN else staff.store_id
    if Segment.objects.filter(name=name, store_id=store_id).exists():
        raise ValidationError(_("已有同名分群，请换一个名称。"))
    segment = Segment.objects.create(name=name, spec=spec, store_id=store_id, created_by=staff)
    segment_snapshot(segment=segment)
    return segment


def segment_snapshot(*, segment: Segment, day: dt.date | None = None) -> SegmentCount:
    """Today's count (again, if taken already: the last one of the day wins)."""
    day = day or timezone.localdate()
    row, _created = SegmentCount.objects.update_or_create(
        segment=segment, day=day, defaults={"count": segment_count(segment=segment)}
    )
    return row


def segments_snapshot_all(*, day: dt.date | None = None) -> int:
    segments = list(Segment.objects.all())
    for segment in segments:
        segment_snapshot(segment=segment, day=day)
    return len(segments)
