"""客户 (managers: their store's customers; admins: all): filter, export, and save the filter as a segment."""

import json
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from scrm.console.permissions import MANAGER_ROLES, console_required
from scrm.csv_export import csv_response
from scrm.customers.models import FollowRelation, Identity, IdentityKind, Tag
from scrm.htmx import template_for_target
from scrm.privacy.models import AccessLog
from scrm.privacy.services import access_record
from scrm.segments import selectors, services
from scrm.segments.forms import SegmentFilterForm, spec_to_data
from scrm.segments.models import TagBatch
from scrm.segments.presentation import spec_describe
from scrm.segments.tagging import tag_batch_start
from scrm.taskcards.quota import quota_remaining

PER_PAGE = 50
CSV_HEADER = [
    "客户 id",
    "名称",
    "手机号",
    "归属门店",
    "服务导购",
    "生命周期",
    "流失风险",
    "订单数",
    "累计消费",
    "首次购买",
    "最近购买",
    "渠道",
]
FILTER_KEYS = set(SegmentFilterForm.base_fields)


def _channels(customer) -> str:
    kinds = {identity.kind for identity in customer.identities.all()}
    return "、".join(str(IdentityKind(kind).label) for kind in IdentityKind.values if kind in kinds)


def _guides(customer) -> str:
    return "、".join(relation.staff.name for relation in customer.follow_relations.all())


def _with_people(customers):
    active = FollowRelation.objects.filter(ended_at__isnull=True).select_related("staff")
    return customers.prefetch_related(
        Prefetch("follow_relations", queryset=active),
        Prefetch("identities", queryset=Identity.objects.only("kind", "customer_id")),
    )


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else ""


def _csv(request, customers, spec: dict):
    rows = (
        [
            c.pk,
            c.name,
            c.phone_masked,
            c.store.name if c.store else "",
            _guides(c),
            c.get_lifecycle_stage_display(),
            _("是") if c.churn_risk else _("否"),
            c.order_count,
            c.total_spend,
            _local(c.first_order_at),
            _local(c.last_order_at),
            _channels(c),
        ]
        for c in _with_people(customers).iterator(chunk_size=500)
    )
    filename = f"客户名单-{timezone.localdate():%Y%m%d}"
    # Who took out which list: the file and the filter it was made with.
    access_record(
        staff=request.staff,
        action=AccessLog.Action.EXPORT_LIST,
        subject=f"{filename}.csv {json.dumps(spec, ensure_ascii=False)}",
        request=request,
    )
    return csv_response(filename, CSV_HEADER, rows)


def _query(request) -> str:
    """The filter part of the query string (no page, no export), for pager and export links."""
    kept = [(k, v) for k in request.GET if k in FILTER_KEYS for v in request.GET.getlist(k) if v != ""]
    return urlencode(kept)


@require_GET
@console_required(roles=MANAGER_ROLES)
def customer_list(request):
    form = SegmentFilterForm(request.GET or None, viewer=request.staff)
    filtered = form.is_bound
    if filtered and not form.is_valid():
        context = {"form": form, "segments": selectors.segments_with_last_count(viewer=request.staff)[:20]}
        return render(request, "console/customers.html", context, status=400)
    spec = form.spec() if filtered else {}
    customers = selectors.customer_list(viewer=request.staff, spec=spec)
    if request.GET.get("export") == "csv":
        return _csv(request, customers, spec)
    page = Paginator(customers, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(_with_people(page.object_list))
    # How many more brand group messages (企业群发) each can receive this month.
    left = quota_remaining(customer_ids=[c.pk for c in page.object_list])
    for customer in page.object_list:
        customer.guide_names, customer.channel_names = _guides(customer), _channels(customer)
        customer.groupsend_left = left[customer.pk]
    context = {
        "form": form,
        "page": page,
        "query": _query(request),
        "spec": spec,
        "segments": selectors.segments_with_last_count(viewer=request.staff)[:20],
    }
    return render(request, "console/customers.html", context)


@require_POST
@console_required(roles=MANAGER_ROLES)
def segment_create(request):
    form = SegmentFilterForm(request.POST, viewer=request.staff)
    back = "console:customers"
    if not form.is_valid():
        messages.error(request, _("筛选条件有误，分群未保存。"))
        return redirect(back)
    try:
        segment = services.segment_create(name=request.POST.get("name", "")[:50], spec=form.spec(), staff=request.staff)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect(f"{reverse(back)}?{_query_from(request.POST)}")
    messages.success(request, _("已保存分群「%(name)s」。") % {"name": segment.name})
    return redirect("console:segment_detail", segment_id=segment.pk)


def _query_from(data) -> str:
    return urlencode([(k, v) for k in data if k in FILTER_KEYS for v in data.getlist(k) if v != ""])


@require_GET
@console_required(roles=MANAGER_ROLES)
def segment_detail(request, segment_id: int):
    segment = selectors.segment_get(viewer=request.staff, segment_id=segment_id)
    trend = selectors.segment_trend(segment=segment)
    peak = max((row.count for row in trend), default=0)
    batches = list(segment.tag_batches.select_related("tag", "staff")[:10])
    context = {
        "segment": segment,
        "count": selectors.segment_count(segment=segment),
        "conditions": spec_describe(segment.spec),
        "trend": [(row, round(100 * row.count / peak) if peak else 0) for row in trend],
        "list_query": urlencode(spec_to_data(segment.spec), doseq=True),
        "tags": Tag.objects.filter(deleted=False, group__deleted=False).select_related("group"),
        "batches": batches,
        "running": any(b.status != TagBatch.Status.DONE for b in batches),
        "request_key": uuid.uuid4().hex,
    }
    template = template_for_target(request, "console/segment_detail.html", {"tag-batches": "batches"})
    return render(request, template, context)


@require_POST
@console_required(roles=MANAGER_ROLES)
def segment_tag(request, segment_id: int):
    """Tag or untag every customer of the segment (a batch, with progress on the segment's page)."""
    segment = selectors.segment_get(viewer=request.staff, segment_id=segment_id)
    raw = request.POST.get("tag", "")
    valid_id = raw.isascii() and raw.isdigit() and len(raw) <= 12
    tag = Tag.objects.filter(pk=int(raw), deleted=False).first() if valid_id else None
    action = request.POST.get("action")
    key = request.POST.get("request_key", "")[:64]
    if tag is None or action not in TagBatch.Action.values or not key:
        messages.error(request, _("请选择标签和操作。"))
        return redirect("console:segment_detail", segment_id=segment.pk)
    batch = tag_batch_start(
        segment=segment, tag=tag, add=action == TagBatch.Action.ADD, staff=request.staff, request_key=key
    )
    messages.success(
        request,
        _("已开始为 %(n)s 位客户%(action)s「%(tag)s」。")
        % {"n": batch.total, "action": batch.get_action_display(), "tag": tag.name},
    )
    return redirect("console:segment_detail", segment_id=segment.pk)
