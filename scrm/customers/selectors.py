"""Reads of the customer domain for the sidebar. Query counts stay constant however much data there is."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy

from scrm.customers.events import EventGroup, EventKind, kinds_in_group
from scrm.customers.models import (
    Customer,
    CustomerTag,
    Event,
    FollowRelation,
    Identity,
    IdentityKind,
    Note,
    Order,
    OrderLine,
    Tag,
    TagGroup,
)
from scrm.org.compiled import CUSTOMER, DT_MARKER, ID, MARKER, STAFF, compiled_row, compiled_rows
from scrm.org.models import Staff

# WeCom's follow_user.add_way codes.
ADD_WAY_LABELS = {
    0: gettext_lazy("未知来源"),
    1: gettext_lazy("扫描二维码"),
    2: gettext_lazy("搜索手机号"),
    3: gettext_lazy("名片分享"),
    4: gettext_lazy("群聊"),
    5: gettext_lazy("手机通讯录"),
    6: gettext_lazy("微信联系人"),
    7: gettext_lazy("微信好友申请"),
    8: gettext_lazy("第三方应用客服"),
    9: gettext_lazy("搜索邮箱"),
    10: gettext_lazy("视频号"),
    11: gettext_lazy("日程参与人"),
    12: gettext_lazy("会议参与人"),
    13: gettext_lazy("微信好友对应的企业微信"),
    14: gettext_lazy("智能硬件专属客服"),
    15: gettext_lazy("上门服务客服"),
    16: gettext_lazy("获客链接"),
    17: gettext_lazy("定制开发"),
    18: gettext_lazy("需求回复"),
    21: gettext_lazy("第三方售前客服"),
    22: gettext_lazy("可能的商务伙伴"),
    24: gettext_lazy("微信账号收到的好友申请"),
    201: gettext_lazy("内部成员共享"),
    202: gettext_lazy("管理员/负责人分配"),
}

TIMELINE_PAGE_SIZE = 20
PORTRAIT_NOTES = 5
PORTRAIT_ORDERS = 5


def add_way_label(add_way: int) -> str:
    return str(ADD_WAY_LABELS.get(add_way, ADD_WAY_LABELS[0]))


def identity_mask(value: str) -> str:
    """Enough of an id to tell two apart, too little to reuse it: 'oAbCdEfGx9Z' → 'oAbC…x9Z'."""
    if len(value) <= 4:
        return "*" * len(value)
    if len(value) <= 8:
        return f"{value[:2]}…{value[-1:]}"
    return f"{value[:4]}…{value[-3:]}"


# --- who may see whom -------------------------------------------------------------------------


def customers_visible_to(*, staff: Staff):
    """Customers this staff member may open in the sidebar (managers: their store's).

    Guides: the customers they serve, and those whose relation ended in WeCom (the chat is still there,
    the portrait says the relation ended) — but not those they handed over to another guide.
    """
    customers = Customer.objects.filter(merged_into__isnull=True)
    if staff.role == Staff.Role.ADMIN:
        return customers
    if staff.role == Staff.Role.GUIDE:
        served = FollowRelation.objects.filter(customer=OuterRef("pk"), staff=staff).exclude(
            ended_by=FollowRelation.EndedBy.TRANSFER
        )
        return customers.filter(Exists(served))
    if staff.role == Staff.Role.MANAGER and staff.store_id:
        served_by_store = FollowRelation.objects.filter(customer=OuterRef("pk"), staff__store_id=staff.store_id)
        return customers.filter(Q(store_id=staff.store_id) | Exists(served_by_store))
    return customers.none()


def customer_get_for_staff(*, staff: Staff, external_userid: str) -> Customer | None:
    """The customer behind a WeCom external_userid, or None when unknown or not this staff's to see.

    Both cases answer the same so an id cannot be probed. The customer comes with its store and with
    `remarks`: {staff id: this staff member's remark for them}, which fills {客户称呼} in scripts.
    """
    if "\x00" in external_userid:
        return None  # no id holds one, and PostgreSQL refuses NUL in a query (a 500)
    # Who may see whom depends on the staff member's id, role and store only: one compiled query each.
    key = ("customer_get_for_staff", staff.pk, staff.role, staff.store_id)
    customer = compiled_row(key, lambda: _customer_for_staff_query(staff=staff)).first(external_userid)
    if customer is not None:
        customer.remarks = {staff.pk: customer.staff_remark or ""}
    return customer


def _customer_for_staff_query(*, staff: Staff, external_userid: str = MARKER) -> QuerySet:
    # Start from the unique identity so the lookup is one index probe, whatever the customer count.
    known_as = Identity.objects.filter(kind=IdentityKind.WECOM, value=external_userid).values("customer_id")[:1]
    return (
        customers_visible_to(staff=staff)
        .filter(pk=Subquery(known_as))
        .select_related("store")
        .annotate(staff_remark=Subquery(staff_remark(staff=staff, customer=OuterRef("pk"))))
        .order_by("pk")[:1]
    )


def staff_remark(*, staff: Staff, customer: Customer | OuterRef) -> QuerySet:
    """The remark `staff` gave `customer` in WeCom (the active relation's first), as a one-value query."""
    relations = FollowRelation.objects.filter(customer=customer, staff=staff).exclude(remark="")
    # The active relation first on every database (PostgreSQL sorts NULLs last by default).
    return relations.order_by(F("ended_at").asc(nulls_first=True), "-added_at").values("remark")[:1]


# --- portrait --------------------------------------------------------------------------------


@dataclass
class IdentityRow:
    kind: str
    label: str
    masked: str


@dataclass
class TagGroupRow:
    group: TagGroup
    selected: list[Tag] = field(default_factory=list)
    available: list[Tag] = field(default_factory=list)


@dataclass
class Portrait:
    customer: Customer
    my_relation: FollowRelation | None
    # The relation whose add_way/state tell how they became a friend: this guide's, else the first.
    source_relation: FollowRelation | None
    other_guides: list[FollowRelation]
    identities: list[IdentityRow]
    tag_groups: list[TagGroupRow]
    notes: list[Note]
    orders: list[Order]
    age: int | None
    friend_days: int | None
    days_since_last_order: int | None
    add_way_label: str
    # Days the expected next purchase is past (None when not yet due or unknown).
    next_expected_overdue_days: int | None = None


def age_on(birthday: dt.date | None, today: dt.date) -> int | None:
    """Full years of age on `today` (the portrait shows it; the demo's age-band tags agree with it)."""
    if not birthday:
        return None
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))


def identity_row(identity: Identity) -> IdentityRow:
    """What may be shown of an identity, in the sidebar and to other systems alike."""
    # Phones are stored as a hash; only the masked display is showable.
    masked = (identity.display or "***") if identity.kind == IdentityKind.PHONE else identity_mask(identity.value)
    label = str(IdentityKind(identity.kind).label) if identity.kind in IdentityKind.values else identity.kind
    return IdentityRow(kind=identity.kind, label=label, masked=masked)


def customer_identities(*, customer: Customer) -> list[IdentityRow]:
    order = list(IdentityKind.values)
    query = compiled_rows(("customer_identities",), lambda: Identity.objects.filter(customer_id=CUSTOMER))
    identities = query.all({CUSTOMER: customer.pk})
    ranked = sorted(identities, key=lambda i: (order.index(i.kind) if i.kind in order else 99, i.pk))
    return [identity_row(identity) for identity in ranked]


def customer_tag_groups(*, customer: Customer) -> list[TagGroupRow]:
    """Every live tag grouped by group, split into the customer's tags and the ones that can be added."""
    groups: dict[int, TagGroupRow] = {}
    query = compiled_rows(
        ("customer_tag_groups",),
        lambda: (
            Tag.objects.filter(deleted=False, group__deleted=False)
            .select_related("group")
            .annotate(selected=Exists(CustomerTag.objects.filter(customer_id=CUSTOMER, tag=OuterRef("pk"))))
            .order_by("-group__order", "group_id", "-order", "id")
        ),
    )
    for tag in query.all({CUSTOMER: customer.pk}):
        row = groups.setdefault(tag.group_id, TagGroupRow(group=tag.group))
        (row.selected if tag.selected else row.available).append(tag)
    return list(groups.values())


def customer_portrait(*, staff: Staff, customer: Customer, today: dt.date | None = None) -> Portrait:
    today = today or timezone.localdate()
    ids = {CUSTOMER: customer.pk, STAFF: staff.pk}
    relations = compiled_rows(("portrait_relations",), _portrait_relations).all(ids)
    mine = [r for r in relations if r.staff_id == staff.pk]
    # This guide's active relation, else their latest past one.
    my_relation = next((r for r in mine if r.ended_at is None), mine[-1] if mine else None)
    others = [r for r in relations if r.staff_id != staff.pk and r.ended_at is None]
    source_relation = my_relation or (relations[0] if relations else None)

    notes = compiled_rows(("portrait_notes",), _portrait_notes).all(ids)
    orders = _portrait_orders(ids)
    last = customer.last_order_at
    return Portrait(
        customer=customer,
        my_relation=my_relation,
        source_relation=source_relation,
        other_guides=others,
        identities=customer_identities(customer=customer),
        tag_groups=customer_tag_groups(customer=customer),
        notes=notes,
        orders=orders,
        age=age_on(customer.birthday, today),
        friend_days=(today - timezone.localdate(source_relation.added_at)).days if source_relation else None,
        days_since_last_order=(today - timezone.localdate(last)).days if last else None,
        add_way_label=add_way_label(source_relation.add_way) if source_relation else "",
        next_expected_overdue_days=_overdue_days(customer.next_expected_on, today),
    )


# The portrait's queries, compiled once per connection (#17): building them cost more CPU than running them.
def _portrait_relations() -> QuerySet:
    return FollowRelation.objects.filter(customer_id=CUSTOMER).select_related("staff").order_by("added_at", "id")


def _portrait_notes() -> QuerySet:
    return Note.objects.filter(customer_id=CUSTOMER, staff_id=STAFF).order_by("-created_at", "-id")[:PORTRAIT_NOTES]


def _portrait_order_rows() -> QuerySet:
    return Order.objects.filter(customer_id=CUSTOMER).order_by("-paid_at", "-id")[:PORTRAIT_ORDERS]


def _portrait_lines() -> QuerySet:
    return OrderLine.objects.filter(order__in=Subquery(_portrait_order_rows().values("pk"))).order_by("id")


def _labels(model, field: str) -> dict:
    return {value: str(label) for value, label in model._meta.get_field(field).flatchoices}


def _portrait_orders(ids: dict) -> list[Order]:
    """The latest orders with their store and lines (`order.lines.all` answers from memory, as prefetched)."""
    orders = compiled_rows(("portrait_orders",), lambda: _portrait_order_rows().select_related("store")).all(ids)
    lines: dict[int, list[OrderLine]] = {order.pk: [] for order in orders}
    if orders:
        for line in compiled_rows(("portrait_lines",), _portrait_lines).all(ids):
            lines[line.order_id].append(line)
    # get_FOO_display() hashes every choice on each call; these labels are translated once per portrait.
    channels, statuses = (_labels(Order, "channel"), _labels(Order, "status")) if orders else ({}, {})
    for order in orders:
        order.channel_label = channels.get(order.channel, order.channel)
        order.status_label = statuses.get(order.status, order.status)
        prefetched = QuerySet(model=OrderLine)
        prefetched._result_cache, prefetched._prefetch_done = lines[order.pk], True
        order._prefetched_objects_cache = {"lines": prefetched}
    return orders


def _overdue_days(expected: dt.date | None, today: dt.date) -> int | None:
    if not expected or expected >= today:
        return None
    return (today - expected).days


# --- timeline --------------------------------------------------------------------------------

TIMELINE_GROUPS = [
    ("", gettext_lazy("全部")),
    (EventGroup.CHAT, EventGroup.CHAT.label),
    (EventGroup.ORDER, EventGroup.ORDER.label),
    (EventGroup.BROWSE, EventGroup.BROWSE.label),
    (EventGroup.TAG, EventGroup.TAG.label),
    (EventGroup.NOTE, EventGroup.NOTE.label),
    (EventGroup.MATERIAL, EventGroup.MATERIAL.label),
]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Cursor:
    occurred_at: dt.datetime
    id: int

    def encode(self) -> str:
        # Whole microseconds since the epoch: a float would round and skip or repeat a row.
        return f"{(self.occurred_at - _EPOCH) // dt.timedelta(microseconds=1)}_{self.id}"

    @classmethod
    def decode(cls, raw: str) -> "Cursor | None":
        """None for anything malformed: a bad cursor shows the first page, never a 500."""
        try:
            micros, pk = raw.split("_", 1)
            return cls(occurred_at=_EPOCH + dt.timedelta(microseconds=int(micros)), id=int(pk))
        except (ValueError, OverflowError):
            return None


@dataclass
class TimelinePage:
    events: list[Event]
    next_cursor: Cursor | None


def note_event(*, note: Note) -> Event | None:
    """The timeline event recorded with a note."""
    event = (
        Event.objects.filter(customer_id=note.customer_id, kind=EventKind.NOTE, payload__note_id=note.pk)
        .select_related("staff")
        .first()
    )
    return event


def timeline_page(
    *, customer: Customer, group: str = "", after: Cursor | None = None, size: int = TIMELINE_PAGE_SIZE
) -> TimelinePage:
    """Newest first, keyset-paged on (occurred_at, id) so ties never repeat or skip a row."""
    query = compiled_rows(
        ("timeline_page", group, bool(after), size), lambda: _timeline_query(group, bool(after), size)
    )
    values = {CUSTOMER: customer.pk}
    if after:
        values |= {DT_MARKER: after.occurred_at, ID: after.id}
    rows = query.all(values)
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = Cursor(occurred_at=rows[-1].occurred_at, id=rows[-1].pk) if more else None
    return TimelinePage(events=rows, next_cursor=next_cursor)


def _timeline_query(group: str, after: bool, size: int) -> QuerySet:
    events = Event.objects.filter(customer_id=CUSTOMER).select_related("staff")
    if group:
        events = events.filter(kind__in=kinds_in_group(group))
    if after:
        events = events.filter(Q(occurred_at__lt=DT_MARKER) | Q(occurred_at=DT_MARKER, id__lt=ID))
    return events.order_by("-occurred_at", "-id")[: size + 1]
