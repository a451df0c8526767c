"""Reads: whose customers a console user may see, saved segments, their live counts and trends."""

import datetime as dt

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from scrm.customers.models import Customer, FollowRelation
from scrm.org.models import Staff
from scrm.segments.filters import customers_matching
from scrm.segments.models import Segment, SegmentCount


def store_scope_q(store_id: int | None) -> Q:
    """A store's customers: those it owns, and those a guide of the store serves now."""
    if store_id is None:
        return Q()
    # An uncorrelated IN: PostgreSQL hashes the store's served customers once (a correlated EXISTS under
    # the OR is probed once per customer of the brand).
    served = FollowRelation.objects.filter(ended_at__isnull=True, staff__store_id=store_id).values("customer_id")
    return Q(store_id=store_id) | Q(pk__in=served)


def viewer_store_id(viewer: Staff) -> int | None:
    """None: the whole brand (admins). A manager without a store sees nobody (-1 matches no store)."""
    if viewer.role == Staff.Role.ADMIN:
        return None
    return viewer.store_id or -1


def customers_visible(*, viewer: Staff) -> QuerySet[Customer]:
    return Customer.objects.filter(merged_into__isnull=True).filter(store_scope_q(viewer_store_id(viewer)))


def customer_list(*, viewer: Staff, spec: dict) -> QuerySet[Customer]:
    return (
        customers_matching(spec=spec, base=customers_visible(viewer=viewer))
        .select_related("store")
        .order_by("-last_order_at", "-id")
    )


def segments_visible(*, viewer: Staff) -> QuerySet[Segment]:
    segments = Segment.objects.select_related("store", "created_by")
    if viewer.role == Staff.Role.ADMIN:
        return segments
    return segments.filter(store_id=viewer.store_id) if viewer.store_id else segments.none()


def segments_with_last_count(*, viewer: Staff) -> QuerySet[Segment]:
    """Saved segments with their latest daily snapshot (`last_count`), for lists: no live count per row."""
    latest = SegmentCount.objects.filter(segment=OuterRef("pk")).order_by("-day").values("count")[:1]
    return segments_visible(viewer=viewer).annotate(last_count=Subquery(latest))


def segment_get(*, viewer: Staff, segment_id: int) -> Segment:
    return get_object_or_404(segments_visible(viewer=viewer), pk=segment_id)


def segment_customers(*, segment: Segment, now: dt.datetime | None = None) -> QuerySet[Customer]:
    base = Customer.objects.filter(store_scope_q(segment.store_id))
    return customers_matching(spec=segment.spec, base=base, now=now)


def segment_count(*, segment: Segment, now: dt.datetime | None = None) -> int:
    return segment_customers(segment=segment, now=now).count()


def segment_trend(*, segment: Segment, days: int = 30, today: dt.date | None = None) -> list[SegmentCount]:
    today = today or timezone.localdate()
    return list(segment.counts.filter(day__gt=today - dt.timedelta(days=days)).order_by("day"))
