"""Reads behind the sidebar's material tab: recommended, all, favourite and recent materials as cards.

Only sendable materials (published, inside the validity window) ever show. Each list is one page
of cards built with a fixed number of queries, however many materials and sends there are.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import (
    Exists,
    F,
    Lookup,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scrm.customers.models import Customer, Tag
from scrm.materials import ranking
from scrm.materials.models import Material, MaterialFavourite, MaterialSend
from scrm.materials.placeholders import material_render_text, placeholder_values
from scrm.materials.selectors import CategoryNode, category_tree, material_list, search_words
from scrm.materials.sending import LONG_SCRIPT
from scrm.org.models import Staff

SECTION_REC = "rec"
SECTION_ALL = "all"
SECTION_FAV = "fav"
SECTION_RECENT = "recent"
SECTIONS = [
    (SECTION_REC, _("推荐")),
    (SECTION_ALL, _("全部")),
    (SECTION_FAV, _("收藏")),
    (SECTION_RECENT, _("最近使用")),
]
PAGE_SIZE = 20
# "Recent" looks at this many of the guide's latest sends (an index range scan, never a full count).
RECENT_SCAN = 300
PREVIEW_CHARS = 90

KIND_ICONS = {
    Material.Kind.TEXT: "💬",
    Material.Kind.IMAGE: "🖼️",
    Material.Kind.VIDEO: "🎬",
    Material.Kind.FILE: "📄",
    Material.Kind.LINK: "🔗",
    Material.Kind.MINIPROGRAM: "🧩",
}


@dataclass
class MaterialCard:
    material: Material
    icon: str
    # Text with placeholders filled for this customer (scripts), the description (links), or "".
    text: str
    thumb_url: str
    is_favourite: bool
    # Long scripts are confirmed in a sheet before sending.
    long: bool
    # Why it is recommended: the customer's tags / stage it was made for.
    reasons: list[str] = field(default_factory=list)
    # Filled in by the view (one reverse per page, not two per card).
    prepare_url: str = ""
    favourite_url: str = ""
    # Worked out once here rather than by the template for every card (it renders 20 per page).
    kind_label: str = ""
    # The muted line under the title: file name and size, "小程序卡片", ….
    detail: str = ""
    preview: str = field(init=False)

    def __post_init__(self) -> None:
        text = " ".join(self.text.split())
        self.preview = text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


@dataclass
class MaterialPage:
    section: str
    q: str
    category_id: int | None
    offset: int
    cards: list[MaterialCard]
    has_more: bool

    @property
    def next_offset(self) -> int:
        return self.offset + len(self.cards)


def _thumb_url(material: Material) -> str:
    if material.thumbnail:
        return material.thumbnail.url
    if material.cover:
        return material.cover.url
    if material.kind == Material.Kind.IMAGE and material.file:
        return material.file.url
    return ""


def _text(material: Material) -> bool:
    return material.kind in (Material.Kind.TEXT, Material.Kind.LINK)


def _detail(material: Material) -> str:
    size = f" · {filesizeformat(material.file_size)}" if material.file_size else ""
    if material.kind == Material.Kind.FILE:
        return f"{material.file_name or _('文件')}{size}"
    if material.kind == Material.Kind.MINIPROGRAM:
        return str(_("小程序卡片"))
    if material.kind == Material.Kind.VIDEO:
        return f"{_('视频')}{size}"
    return ""


def _kind_label(kind: str) -> str:
    try:
        return str(Material.Kind(kind).label)
    except ValueError:
        return kind


def _customer_tags(customer: Customer) -> dict[int, str]:
    """The customer's tag ids and names (one query); recommendations and their reasons use both."""
    return dict(Tag.objects.filter(customer_tags__customer_id=customer.pk).order_by().values_list("id", "name"))


class _Like(Lookup):
    """`column LIKE '%word%'`: unlike Django's UPPER(column) LIKE, a pg_trgm index on the column serves it.

    Case-sensitive, so only for words without letter case (Chinese), where it finds what icontains would
    and scans fastest; _ILike for the others.
    """

    lookup_name = "scrm_like"
    prepare_rhs = False
    operator = "LIKE"

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        pattern = f"%{connection.ops.prep_for_like_query(self.rhs)}%"
        if connection.vendor == "postgresql":
            return f"{lhs_sql} {self.operator} %s", (*lhs_params, pattern)
        # SQLite's LIKE ignores ASCII case, as Django's own icontains does there.
        return f"{lhs_sql} LIKE %s ESCAPE '\\'", (*lhs_params, pattern)


class _ILike(_Like):
    lookup_name = "scrm_ilike"
    operator = "ILIKE"


def _search_filter(q: str) -> Q:
    """Every word (up to five) in the title, the content or the keywords, ignoring case."""
    found = Q()
    for word in search_words(q):
        like = _Like if word.lower() == word.upper() else _ILike
        found &= like(F("title"), word) | like(F("content"), word) | like(F("keywords"), word)
    return found


# Ids asked of the ranking beyond the page: a material withdrawn behind the snapshot's back (a bulk
# update or delete) drops out when the page's rows are read, and the page still fills. When more
# than that dropped out, the ranking is asked again for this many times more (up to twice).
RANK_SLACK = 5
RANK_SLACK_GROWTH = 20


def _recommended(
    *,
    base: QuerySet[Material],
    rows: QuerySet[Material],
    customer: Customer,
    tag_ids: list[int],
    filtered: bool,
    now: dt.datetime,
    offset: int,
    size: int,
) -> tuple[list[Material], dict[int, list[int]]]:
    """Up to size + 1 recommended materials from `offset` (see scrm.materials.ranking), read again as
    still sendable, and which of the customer's tags each targets. A search or a category narrows the
    ranking to the ids it matches (one more query)."""
    allowed = set(base.values_list("id", flat=True)) if filtered else None
    want = offset + size + 1
    slack = RANK_SLACK
    for _attempt in range(3):
        ranked, matched_tags = ranking.ranked_ids(
            tag_ids=tag_ids, stage=customer.lifecycle_stage, now=now, stop=want + slack, allowed=allowed
        )
        ids = ranked
        if offset:
            # Count only what is still offered before this page, or a withdrawn one would shift it.
            still = set(base.filter(pk__in=ids).values_list("id", flat=True))
            ids = [pk for pk in ids if pk in still]
        page_ids = ids[offset:]
        by_id = rows.in_bulk(page_ids)
        materials = [by_id[pk] for pk in page_ids if pk in by_id][: size + 1]
        if len(materials) > size or len(ranked) < want + slack:
            break  # the window is full, or the ranking has nothing more
        slack *= RANK_SLACK_GROWTH
    return materials, matched_tags


def _recent_ids(*, staff: Staff, offered: QuerySet[Material]) -> list[int]:
    """Offered materials this guide sent lately, newest first, each once (one query: an index range scan
    over the guide's latest sends, each checked against the offered materials by primary key)."""
    rows = (
        MaterialSend.objects.filter(staff=staff, status=MaterialSend.Status.SENT)
        .filter(Exists(offered.filter(pk=OuterRef("material_id"))))
        .order_by("-sent_at", "-id")
        .values_list("material_id", flat=True)[:RECENT_SCAN]
    )
    return list(dict.fromkeys(rows))


def material_page(
    *,
    staff: Staff,
    customer: Customer,
    section: str = SECTION_REC,
    q: str = "",
    category_id: int | None = None,
    offset: int = 0,
    size: int = PAGE_SIZE,
    now: dt.datetime | None = None,
) -> MaterialPage:
    """One page of sendable material cards for the guide talking to `customer`."""
    if section not in dict(SECTIONS):
        section = SECTION_REC
    offset = max(0, offset)
    now = now or timezone.now()
    base: QuerySet[Material] = (
        material_list(category_id=category_id, sendable_only=True, now=now).select_related(None).prefetch_related(None)
    )
    if q.strip():
        base = base.filter(_search_filter(q.strip()))
    # The rows a page shows, each with whether this guide starred it (no separate query).
    rows = base.annotate(is_starred=Exists(MaterialFavourite.objects.filter(staff=staff, material=OuterRef("pk"))))
    window = slice(offset, offset + size + 1)
    tags: dict[int, str] = {}
    matched_tags: dict[int, list[int]] = {}
    if section == SECTION_REC:
        tags = _customer_tags(customer)
        materials, matched_tags = _recommended(
            base=base,
            rows=rows,
            customer=customer,
            tag_ids=list(tags),
            filtered=bool(q.strip() or category_id),
            now=now,
            offset=offset,
            size=size,
        )
    elif section == SECTION_FAV:
        starred = MaterialFavourite.objects.filter(staff=staff, material=OuterRef("pk"))
        starred_rows = rows.filter(Exists(starred)).annotate(starred_at=Subquery(starred.values("created_at")[:1]))
        materials = list(starred_rows.order_by("-starred_at", "-id")[window])
    elif section == SECTION_RECENT:
        # Ids first, then the rows of this page alone.
        ids = _recent_ids(staff=staff, offered=base)[window]
        by_id = rows.in_bulk(ids)
        materials = [by_id[pk] for pk in ids if pk in by_id]
    else:
        materials = list(rows.order_by("-updated_at", "-id")[window])
    has_more = len(materials) > size
    materials = materials[:size]
    values = placeholder_values(customer=customer, staff=staff) if any(_text(m) for m in materials) else {}
    reasons = (
        _reasons(customer=customer, tags=tags, matched_tags=matched_tags, materials=materials)
        if section == SECTION_REC
        else {}
    )
    kind_labels = {kind: _kind_label(kind) for kind in {m.kind for m in materials}}
    cards = []
    for material in materials:
        text = (
            material_render_text(material=material, customer=customer, staff=staff, values=values)
            if _text(material)
            else ""
        )
        cards.append(
            MaterialCard(
                material=material,
                icon=KIND_ICONS.get(material.kind, "📎"),
                text=text,
                thumb_url=_thumb_url(material),
                is_favourite=material.is_starred,
                long=material.kind == Material.Kind.TEXT and len(text) > LONG_SCRIPT,
                reasons=reasons.get(material.pk, []),
                kind_label=kind_labels[material.kind],
                detail=_detail(material),
            )
        )
    return MaterialPage(section=section, q=q, category_id=category_id, offset=offset, cards=cards, has_more=has_more)


def _reasons(
    *, customer: Customer, tags: dict[int, str], matched_tags: dict[int, list[int]], materials: list[Material]
) -> dict[int, list[str]]:
    """For each recommended material, the customer's tag names (by name) and stage it targets (no query)."""
    found: dict[int, list[str]] = {}
    for material in materials:
        names = sorted(tags[tag_id] for tag_id in matched_tags.get(material.pk, []))
        if names:
            found[material.pk] = names
    stage = customer.lifecycle_stage
    stage_label = str(customer.get_lifecycle_stage_display())  # once: it translates every choice
    for material in materials:
        if stage in (material.audience_stages or []):
            found.setdefault(material.pk, []).append(stage_label)
    return found


@dataclass
class CategoryChip:
    node: CategoryNode
    on: bool


def category_chips(*, category_id: int | None) -> tuple[list[CategoryChip], list[CategoryChip], list[CategoryNode]]:
    """Top-level categories, the children of the chosen branch, and the chosen category's path (one query)."""
    nodes = category_tree()
    by_id = {node.category.pk: node for node in nodes}
    chosen = by_id.get(category_id) if category_id else None
    trail: list[CategoryNode] = []
    node = chosen
    while node is not None:
        trail.insert(0, node)
        node = by_id.get(node.category.parent_id)
    on_ids = {n.category.pk for n in trail}
    top = [CategoryChip(n, n.category.pk in on_ids) for n in nodes if n.depth == 0]
    children = []
    if chosen is not None:
        children = [CategoryChip(c, False) for c in chosen.children]
        if not children and len(trail) > 1:
            # A leaf: keep its siblings in view so the guide can switch between them.
            children = [CategoryChip(c, c.category.pk == chosen.category.pk) for c in trail[-2].children]
    return top, children, trail
