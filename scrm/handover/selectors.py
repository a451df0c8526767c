"""Reads of customer hand-over for the console. Query counts stay constant however much data there is."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from scrm.customers.models import CustomerTag, FollowRelation, Tag
from scrm.handover.models import HandoverBatch, HandoverItem
from scrm.org.models import Staff

State = HandoverItem.State
# Who can hand customers over, and receive them.
SERVING_ROLES = (Staff.Role.GUIDE, Staff.Role.MANAGER)


def staff_manageable(*, viewer: Staff) -> QuerySet[Staff]:
    """Guides (and managers) whose customers the viewer may hand over: their store's, or all for admins."""
    staff = Staff.objects.filter(role__in=SERVING_ROLES).select_related("store")
    if viewer.role == Staff.Role.ADMIN:
        return staff
    if viewer.role == Staff.Role.MANAGER and viewer.store_id:
        return staff.filter(store_id=viewer.store_id)
    return staff.none()


def staff_get_manageable(*, viewer: Staff, staff_id: int) -> Staff:
    staff = staff_manageable(viewer=viewer).filter(pk=staff_id).first()
    if staff is None:
        raise Http404(_("导购不存在或无权操作"))
    return staff


def staff_with_customer_counts(*, viewer: Staff) -> list[Staff]:
    """The viewer's guides, each with `serving` (active relations) and `in_handover` (any open item)."""
    open_items = HandoverItem.objects.filter(relation__staff=OuterRef("pk"), state__in=HandoverItem.OPEN_STATES)
    return list(
        staff_manageable(viewer=viewer)
        .annotate(serving=Count("follow_relations", filter=Q(follow_relations__ended_at__isnull=True)))
        .annotate(in_handover=Exists(open_items))
        .order_by("store__code", "-is_active", "name")
    )


def takeover_choices(*, viewer: Staff, handover: Staff) -> QuerySet[Staff]:
    """Active guides who may receive the customers: same store for managers, never the old guide."""
    return (
        staff_manageable(viewer=viewer).filter(is_active=True).exclude(pk=handover.pk).order_by("store__code", "name")
    )


def handover_candidates(*, handover: Staff) -> QuerySet[FollowRelation]:
    """The old guide's active relations not already in an open hand-over."""
    busy = HandoverItem.objects.filter(relation=OuterRef("pk"), state__in=HandoverItem.OPEN_STATES)
    return (
        FollowRelation.objects.filter(staff=handover, ended_at__isnull=True, customer__merged_into__isnull=True)
        .exclude(Exists(busy))
        .order_by("id")
    )


def handover_select(*, handover: Staff, mode: str, tag: Tag | None = None, stage: str = "") -> QuerySet[FollowRelation]:
    relations = handover_candidates(handover=handover)
    if mode == "tag" and tag is not None:
        relations = relations.filter(Exists(CustomerTag.objects.filter(customer=OuterRef("customer_id"), tag=tag)))
    elif mode == "stage":
        relations = relations.filter(customer__lifecycle_stage=stage)
    return relations


@dataclass(frozen=True)
class SelectionCounts:
    total: int
    by_tag: dict[int, int]
    by_stage: dict[str, int]
    busy: int


def selection_counts(*, handover: Staff) -> SelectionCounts:
    """How many customers each choice of the form would move (three queries)."""
    candidates = handover_candidates(handover=handover)
    by_stage = dict(
        candidates.order_by()
        .values_list("customer__lifecycle_stage")
        .annotate(n=Count("id"))
        .values_list("customer__lifecycle_stage", "n")
    )
    by_tag = dict(
        CustomerTag.objects.filter(customer__in=candidates.values("customer_id"))
        .order_by()
        .values_list("tag_id")
        .annotate(n=Count("customer_id", distinct=True))
        .values_list("tag_id", "n")
    )
    busy = FollowRelation.objects.filter(staff=handover, ended_at__isnull=True).count() - sum(by_stage.values())
    return SelectionCounts(total=sum(by_stage.values()), by_tag=by_tag, by_stage=by_stage, busy=max(busy, 0))


def tags_in_use(*, tag_ids) -> QuerySet[Tag]:
    return (
        Tag.objects.filter(pk__in=list(tag_ids), deleted=False)
        .select_related("group")
        .order_by("group__order", "group_id", "-order", "id")
    )


# --- batches ----------------------------------------------------------------------------------


def _state_counts():
    counts = {f"n_{s}": Count("items", filter=Q(items__state=s)) for s in State.values}
    # 进行中 and 拒绝/失败 as the pages show them, summed here so no template repeats the sum.
    counts["n_open"] = Count("items", filter=Q(items__state__in=[State.PENDING, State.SENDING, State.WAITING]))
    counts["n_unsuccessful"] = Count("items", filter=Q(items__state__in=[State.REFUSED, State.FAILED]))
    return counts | {"n_total": Count("items")}


def batches_visible(*, viewer: Staff) -> QuerySet[HandoverBatch]:
    batches = HandoverBatch.objects.select_related("handover", "created_by", "store")
    if viewer.role == Staff.Role.ADMIN:
        return batches
    if viewer.role == Staff.Role.MANAGER and viewer.store_id:
        return batches.filter(store_id=viewer.store_id)
    return batches.none()


def batch_list(*, viewer: Staff) -> QuerySet[HandoverBatch]:
    """Batches newest first, each with n_<state> and n_total counts."""
    return batches_visible(viewer=viewer).annotate(**_state_counts()).order_by("-created_at", "-id")


def batch_get(*, viewer: Staff, batch_id: int) -> HandoverBatch:
    batch = batch_list(viewer=viewer).filter(pk=batch_id).first()
    if batch is None:
        raise Http404(_("批次不存在或无权查看"))
    return batch


def batch_items(*, batch: HandoverBatch, state: str = "") -> QuerySet[HandoverItem]:
    items = batch.items.select_related("customer", "takeover").order_by("id")
    if state in State.values:
        items = items.filter(state=state)
    return items


def batch_send_error(*, batch: HandoverBatch) -> HandoverItem | None:
    """The latest pending item a send left an error on (WeCom unreachable, token…): it waits for a retry."""
    return batch.items.filter(state=State.PENDING).exclude(reason="").order_by("-updated_at", "-id").first()
