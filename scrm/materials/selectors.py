"""Reads of the material library: lists with filters, the category tree, per-material statistics.

Every function runs a fixed number of queries however much data there is.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, F, Max, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from scrm.customers.models import Order, OrderStatus
from scrm.materials.models import Material, MaterialCategory, MaterialSend

# Orders a reached customer places within this long after a send count towards the material's ROI.
ROI_WINDOW = dt.timedelta(days=7)
SORTS = ("updated", "sends", "recent", "title")
# Besides the stored statuses, the console filters on these derived ones.
STATUS_SENDABLE = "sendable"
STATUS_EXPIRED = "expired"


@dataclass
class CategoryNode:
    category: MaterialCategory
    depth: int
    path: str
    children: list["CategoryNode"] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "　" * self.depth + self.category.name


def category_tree() -> list[CategoryNode]:
    """All categories, depth first in display order, each with its full path ('护肤 / 精华')."""
    categories = list(MaterialCategory.objects.order_by("order", "id"))
    by_parent: dict[int | None, list[MaterialCategory]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)
    flat: list[CategoryNode] = []

    def walk(parent_id: int | None, depth: int, prefix: str, seen: frozenset) -> list[CategoryNode]:
        nodes = []
        for category in by_parent.get(parent_id, []):
            if category.pk in seen:  # a cycle written around the services; never loop forever
                continue
            node = CategoryNode(category, depth, f"{prefix}{category.name}")
            flat.append(node)
            node.children = walk(category.pk, depth + 1, f"{node.path} / ", seen | {category.pk})
            nodes.append(node)
        return nodes

    walk(None, 0, "", frozenset())
    return flat


def category_descendant_ids(*, category_id: int) -> set[int]:
    """The category and everything under it (one query); nothing for an unknown id.

    Only ids read from the table come back, so a caller's out-of-range id never reaches a query.
    """
    children: dict[int | None, list[int]] = {}
    known = set()
    for pk, parent_id in MaterialCategory.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
        known.add(pk)
    found, todo = set(), [category_id] if category_id in known else []
    while todo:
        pk = todo.pop()
        if pk not in found:
            found.add(pk)
            todo.extend(children.get(pk, []))
    return found


def search_words(q: str) -> list[str]:
    """The words (up to five) a search matches, all of them; NUL, which PostgreSQL refuses, splits words."""
    return q.replace("\x00", " ").split()[:5]


def _sendable_q(now: dt.datetime) -> Q:
    return (
        Q(status=Material.Status.PUBLISHED)
        & (Q(valid_from__isnull=True) | Q(valid_from__lte=now))
        & (Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    )


def material_list(
    *,
    q: str = "",
    kind: str = "",
    category_id: int | None = None,
    status: str = "",
    tag_id: int | None = None,
    updated_since: dt.datetime | None = None,
    sort: str = "updated",
    sendable_only: bool = False,
    now: dt.datetime | None = None,
) -> QuerySet[Material]:
    """Materials matching the filters; a category includes its sub-categories.

    The sidebar calls this with sendable_only=True (published, inside the validity window).
    """
    now = now or timezone.now()
    qs = Material.objects.select_related("category").prefetch_related("audience_tags")
    if q:
        for word in search_words(q):
            qs = qs.filter(Q(title__icontains=word) | Q(content__icontains=word) | Q(keywords__icontains=word))
    if kind:
        qs = qs.filter(kind=kind)
    if category_id:
        qs = qs.filter(category_id__in=category_descendant_ids(category_id=category_id))
    if status == STATUS_SENDABLE:
        qs = qs.filter(_sendable_q(now))
    elif status == STATUS_EXPIRED:
        qs = qs.filter(valid_until__lte=now)
    elif status:
        qs = qs.filter(status=status)
    if tag_id:
        qs = qs.filter(audience_tags__id=tag_id)
    if updated_since:
        qs = qs.filter(updated_at__gte=updated_since)
    if sendable_only:
        qs = qs.filter(_sendable_q(now))
    if sort == "sends":
        return qs.order_by("-send_count", "-id")
    if sort == "recent":
        qs = qs.annotate(last_sent_at=Max("sends__sent_at", filter=Q(sends__status=MaterialSend.Status.SENT)))
        return qs.order_by(F("last_sent_at").desc(nulls_last=True), "-id")
    if sort == "title":
        return qs.order_by("title", "id")
    return qs.order_by("-updated_at", "-id")


def material_get(*, material_id: int) -> Material | None:
    return (
        Material.objects.select_related("category", "created_by")
        .prefetch_related("audience_tags")
        .filter(pk=material_id)
        .first()
    )


@dataclass(frozen=True)
class DayPoint:
    day: dt.date
    sends: int
    orders: int
    gmv: Decimal


@dataclass(frozen=True)
class GuideUsage:
    staff_id: int
    name: str
    store: str
    sends: int
    customers: int


@dataclass(frozen=True)
class MaterialStats:
    sends: int
    customers: int
    guides: int
    roi_orders: int
    roi_gmv: Decimal
    daily: list[DayPoint]
    top_guides: list[GuideUsage]
    recent_sends: list[MaterialSend]


def _roi_orders(material_id: int) -> QuerySet[Order]:
    """Orders by a reached customer paid within ROI_WINDOW after one of their sends.

    An order counts once even when several sends precede it; fully refunded orders do not count.
    """
    sends = MaterialSend.objects.filter(material_id=material_id, status=MaterialSend.Status.SENT)
    reached_in_window = sends.filter(
        customer_id=OuterRef("customer_id"),
        sent_at__lte=OuterRef("paid_at"),
        sent_at__gte=OuterRef("paid_at") - ROI_WINDOW,
    )
    return (
        Order.objects.filter(customer_id__in=sends.values("customer_id"))
        .exclude(status=OrderStatus.REFUNDED)
        .filter(Exists(reached_in_window))
    )


_NET = F("amount") - F("refund_amount")
_MONEY = DecimalField(max_digits=14, decimal_places=2)


def material_stats(*, material_id: int, days: int = 30, today: dt.date | None = None) -> MaterialStats:
    """Usage and ROI of one material; `daily` covers the last `days` days, today included.

    GMV is what the customer kept paying: amount minus refunds.
    """
    today = today or timezone.localdate()
    first_day = today - dt.timedelta(days=days - 1)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=tz)

    sends = MaterialSend.objects.filter(material_id=material_id, status=MaterialSend.Status.SENT)
    totals = sends.aggregate(
        sends=Count("id"), customers=Count("customer_id", distinct=True), guides=Count("staff_id", distinct=True)
    )
    orders = _roi_orders(material_id)
    roi = orders.aggregate(n=Count("id"), gmv=Coalesce(Sum(_NET, output_field=_MONEY), Value(Decimal("0"))))

    send_days = dict(
        sends.filter(sent_at__gte=start)
        .annotate(day=TruncDate("sent_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    order_days = {
        row["day"]: row
        for row in orders.filter(paid_at__gte=start)
        .annotate(day=TruncDate("paid_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"), gmv=Sum(_NET, output_field=_MONEY))
    }
    daily = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        row = order_days.get(day, {})
        daily.append(
            DayPoint(day=day, sends=send_days.get(day, 0), orders=row.get("n", 0), gmv=row.get("gmv") or Decimal("0"))
        )

    top_guides = _guide_usage(sends)
    recent = list(
        MaterialSend.objects.filter(material_id=material_id)
        .select_related("staff", "customer")
        .order_by("-sent_at", "-id")[:20]
    )
    return MaterialStats(
        sends=totals["sends"],
        customers=totals["customers"],
        guides=totals["guides"],
        roi_orders=roi["n"],
        roi_gmv=Decimal(roi["gmv"]).quantize(Decimal("0.01")),
        daily=daily,
        top_guides=top_guides,
        recent_sends=recent,
    )


@dataclass(frozen=True)
class MaterialOverview:
    total: int
    sendable: int
    drafts: int
    sends_7d: int
    top_7d: list[tuple[Material, int]]


def material_overview(*, now: dt.datetime | None = None) -> MaterialOverview:
    """Library-wide counts for the console landing page (four queries)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=7)
    counts = Material.objects.aggregate(
        total=Count("id"),
        sendable=Count("id", filter=_sendable_q(now)),
        drafts=Count("id", filter=Q(status=Material.Status.DRAFT)),
    )
    recent = MaterialSend.objects.filter(status=MaterialSend.Status.SENT, sent_at__gte=since)
    top = list(recent.values("material_id").annotate(n=Count("id")).order_by("-n", "material_id")[:5])
    materials = Material.objects.in_bulk([row["material_id"] for row in top])
    return MaterialOverview(
        total=counts["total"],
        sendable=counts["sendable"],
        drafts=counts["drafts"],
        sends_7d=recent.count(),
        top_7d=[(materials[row["material_id"]], row["n"]) for row in top if row["material_id"] in materials],
    )


def category_material_counts() -> dict[int, int]:
    """How many materials sit directly in each category."""
    return dict(
        Material.objects.filter(category__isnull=False)
        .values("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
    )


def category_total_counts(*, nodes: list[CategoryNode], direct: dict[int, int]) -> dict[int, int]:
    """Materials in each category including its sub-categories, as its list (?category=) shows them."""
    totals: dict[int, int] = {}

    def total(node: CategoryNode) -> int:
        if node.category.pk not in totals:
            totals[node.category.pk] = direct.get(node.category.pk, 0) + sum(total(c) for c in node.children)
        return totals[node.category.pk]

    for node in nodes:
        total(node)
    return totals


def _guide_usage(sent: QuerySet[MaterialSend]) -> list[GuideUsage]:
    """The ten guides with the most of these (successful) sends, and the customers each reached."""
    return [
        GuideUsage(
            staff_id=row["staff_id"],
            name=row["staff__name"],
            store=row["staff__store__name"] or "",
            sends=row["n"],
            customers=row["c"],
        )
        for row in sent.values("staff_id", "staff__name", "staff__store__name")
        .annotate(n=Count("id"), c=Count("customer_id", distinct=True))
        .order_by("-n", "staff_id")[:10]
    ]


def material_store_usage(*, material_id: int, store_id: int | None) -> tuple[list[GuideUsage], list[MaterialSend]]:
    """Top guides and recent sends of one store's guides (a manager sees nothing of other stores)."""
    if store_id is None:
        return [], []
    sends = MaterialSend.objects.filter(material_id=material_id, staff__store_id=store_id)
    top_guides = _guide_usage(sends.filter(status=MaterialSend.Status.SENT))
    recent = list(sends.select_related("staff", "customer").order_by("-sent_at", "-id")[:20])
    return top_guides, recent
