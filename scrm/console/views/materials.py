"""Material library pages for content staff: list, create/edit, publish, bulk upload, categories."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from scrm.console.charts import bar_chart
from scrm.console.forms.common import add_service_errors
from scrm.console.forms.materials import (
    BulkUploadForm,
    CategoryForm,
    CategoryMoveForm,
    CategoryRenameForm,
    MaterialFilterForm,
    MaterialForm,
)
from scrm.console.permissions import MATERIAL_ROLES, console_required
from scrm.customers.models import LifecycleStage
from scrm.htmx import template_for_target
from scrm.materials import selectors, services
from scrm.materials.bulk import bulk_upload_start
from scrm.materials.models import BulkUpload, BulkUploadItem, Material, MaterialCategory
from scrm.materials.placeholders import material_unknown_placeholders
from scrm.materials.validation import check_upload
from scrm.org.models import Staff

PAGE_SIZE = 30
MOVE_PREFIX = "move"


@console_required(roles=MATERIAL_ROLES)
def material_list(request):
    form = MaterialFilterForm(request.GET or None)
    materials = selectors.material_list(**form.filters())
    page = Paginator(materials, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "kinds": Material.Kind.choices}
    # Back/forward re-requests the whole page (the form has hx-history="false"): the filters then
    # show the URL's values, not those of a stale snapshot.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "console/materials_list.html#results" if partial else "console/materials_list.html"
    return render(request, template, context)


@console_required(roles=MATERIAL_ROLES)
def material_create(request, kind: str):
    if kind not in Material.Kind.values:
        raise Http404(_("素材类型不存在"))
    form = MaterialForm(request.POST or None, request.FILES or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            material = services.material_create(kind=kind, created_by=request.staff, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("素材已保存为草稿，确认无误后请发布。"))
            return redirect("console:material_detail", pk=material.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "kind": kind, "kind_label": Material.Kind(kind).label}
    return render(request, "console/materials_form.html", context, status=status)


@console_required(roles=MATERIAL_ROLES)
def material_edit(request, pk: int):
    material = get_object_or_404(Material.objects.prefetch_related("audience_tags"), pk=pk)
    form = MaterialForm(request.POST or None, request.FILES or None, kind=material.kind, material=material)
    if request.method == "POST" and form.is_valid():
        try:
            services.material_update(material=material, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("修改已保存。"))
            return redirect("console:material_detail", pk=material.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "material": material, "kind": material.kind, "kind_label": material.get_kind_display()}
    return render(request, "console/materials_form.html", context, status=status)


def _send_time(value, *, this_year: int) -> str:
    local = timezone.localtime(value)
    return f"{local:%m-%d %H:%M}" if local.year == this_year else f"{local:%Y-%m-%d %H:%M}"


@console_required(roles=MATERIAL_ROLES)
def material_detail(request, pk: int):
    material = selectors.material_get(material_id=pk)
    if material is None:
        raise Http404(_("素材不存在"))
    stats = selectors.material_stats(material_id=pk)
    role = request.staff.role
    top_guides, recent_sends = stats.top_guides, stats.recent_sends
    if role == Staff.Role.MANAGER:
        top_guides, recent_sends = selectors.material_store_usage(material_id=pk, store_id=request.staff.store_id)
    this_year = timezone.localdate().year
    labels = [f"{p.day.month}/{p.day.day}" for p in stats.daily]
    context = {
        "material": material,
        "stats": stats,
        "top_guides": top_guides,
        "recent_sends": [(send, _send_time(send.sent_at, this_year=this_year)) for send in recent_sends],
        # Content staff curate materials and must not see who the customers are.
        "show_customers": role != Staff.Role.CONTENT,
        "store_scoped": role == Staff.Role.MANAGER,
        "sendable": material.is_sendable(),
        "sends_chart": bar_chart(list(zip(labels, [p.sends for p in stats.daily], strict=True))),
        "gmv_chart": bar_chart(list(zip(labels, [p.gmv for p in stats.daily], strict=True))),
        "unknown_placeholders": material_unknown_placeholders(content=material.content)
        if material.kind == Material.Kind.TEXT
        else [],
        "roi_days": selectors.ROI_WINDOW.days,
        "stage_labels": [LifecycleStage(s).label for s in material.audience_stages if s in LifecycleStage.values],
    }
    return render(request, "console/materials_detail.html", context)


def _publish_message(material: Material) -> str:
    now = timezone.now()
    if material.valid_from and material.valid_from > now:
        # Published ahead of its start: guides only see it from 生效时间 on.
        when = timezone.localtime(material.valid_from).strftime("%Y-%m-%d %H:%M")
        return _("已发布，%(when)s 生效后导购即可在侧边栏中发送。") % {"when": when}
    return _("已发布，导购现在可以在侧边栏中发送。")


@require_POST
@console_required(roles=MATERIAL_ROLES)
def material_publish(request, pk: int):
    material = get_object_or_404(Material, pk=pk)
    try:
        services.material_publish(material=material)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _publish_message(material))
    return redirect("console:material_detail", pk=pk)


@require_POST
@console_required(roles=MATERIAL_ROLES)
def material_unpublish(request, pk: int):
    material = get_object_or_404(Material, pk=pk)
    services.material_unpublish(material=material)
    messages.success(request, _("已下架，导购将看不到此素材。"))
    return redirect("console:material_detail", pk=pk)


@console_required(roles=MATERIAL_ROLES)
def material_bulk_upload(request):
    """Many images at once. The page's script posts one file per request and shows each result;
    without the script the form posts them all and this view lists the results."""
    form = BulkUploadForm(request.POST or None)
    results = []
    if request.method == "POST":
        category = form.cleaned_data.get("category") if form.is_valid() else None
        files = request.FILES.getlist("files")
        if not files:
            results.append({"name": "", "ok": False, "error": _("请选择要上传的图片。")})
        if request.accepts("application/json") and not request.accepts("text/html"):
            # The page's script: one file per request, checked at once, each result shown as it comes.
            results += [_bulk_one(request, upload, category) for upload in files]
            ok = all(r["ok"] for r in results)
            return JsonResponse({"results": results}, status=200 if ok else 400)
        if files:
            # Without the script all files come in one request: a worker checks them, the page follows.
            batch = bulk_upload_start(files=files, created_by=request.staff, category=category)
            return redirect("console:material_bulk_status", batch_id=batch.pk)
    # Duplicates are answered ok but not saved again: counted apart from the saved ones.
    context = {
        "form": form,
        "results": results,
        "ok_count": sum(1 for r in results if r["ok"] and r["created"]),
        "dup_count": sum(1 for r in results if r["ok"] and not r["created"]),
    }
    return render(request, "console/materials_bulk.html", context)


@console_required(roles=MATERIAL_ROLES)
def material_bulk_status(request, batch_id: int):
    """Progress of a bulk upload checked by a worker; the page polls itself until every file is done."""
    batch = get_object_or_404(BulkUpload, pk=batch_id)
    items = list(batch.items.select_related("material"))
    done = sum(1 for item in items if item.status != BulkUploadItem.Status.PENDING)
    context = {
        "batch": batch,
        "items": items,
        "done": done,
        "counts": {status: sum(1 for item in items if item.status == status) for status in BulkUploadItem.Status},
    }
    template = template_for_target(request, "console/materials_bulk_status.html", {"bulk-status": "status"})
    return render(request, template, context)


def _bulk_one(request, upload, category: MaterialCategory | None) -> dict:
    name = upload.name
    try:
        checked = check_upload(upload, kind=Material.Kind.IMAGE)
        material, created = services.material_bulk_image_create(
            upload=checked, created_by=request.staff, category=category
        )
    except ValidationError as exc:
        return {"name": name, "ok": False, "error": " ".join(exc.messages)}
    return {
        "name": name,
        "ok": True,
        "id": material.pk,
        "created": created,
        "title": material.title if created else _("与已有素材“%(title)s”相同，未重复保存") % {"title": material.title},
        "url": reverse("console:material_detail", args=[material.pk]),
        "thumbnail": material.thumbnail.url if material.thumbnail else "",
    }


@console_required(roles=MATERIAL_ROLES)
def category_list(request):
    form = CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.category_create(name=form.cleaned_data["name"], parent=form.cleaned_data["parent"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("分类已添加。"))
            return redirect("console:material_categories")
    direct = selectors.category_material_counts()
    nodes = selectors.category_tree()
    # Counted with sub-categories: clicking a category lists theirs too.
    totals = selectors.category_total_counts(nodes=nodes, direct=direct)
    rows = [(node, totals.get(node.category.pk, 0), direct.get(node.category.pk, 0)) for node in nodes]
    return render(
        request,
        "console/materials_categories.html",
        # A prefix keeps the two forms' "parent" fields from sharing id="id_parent".
        {"form": form, "move_form": CategoryMoveForm(prefix=MOVE_PREFIX), "rows": rows},
        status=400 if form.is_bound else 200,
    )


@require_POST
@console_required(roles=MATERIAL_ROLES)
def category_rename(request, pk: int):
    category = get_object_or_404(MaterialCategory, pk=pk)
    form = CategoryRenameForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["name"])
        services.category_rename(category=category, name=form.cleaned_data["name"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("分类已重命名。"))
    return redirect("console:material_categories")


@require_POST
@console_required(roles=MATERIAL_ROLES)
def category_move(request):
    form = CategoryMoveForm(request.POST, prefix=MOVE_PREFIX)
    try:
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        services.category_move(category=form.cleaned_data["category"], parent=form.cleaned_data["parent"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("分类已移动。"))
    return redirect("console:material_categories")
