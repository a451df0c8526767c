"""Customer hand-over pages (客户继承): managers for their store, admins for all.

The form picks the old guide's customers (all, by tag, by lifecycle stage) and the receiving
guide(s); scrm.handover.services makes the batch and sends it to WeCom after commit.
"""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from scrm.console.forms.handover import HandoverForm
from scrm.console.permissions import MANAGER_ROLES, console_required
from scrm.handover import selectors, services
from scrm.handover.models import HandoverItem

ITEMS_PER_PAGE = 100
BATCHES_PER_PAGE = 20


def _preview(form: HandoverForm) -> dict:
    """What the current choices would do, for the live summary above the submit button."""
    data = form.data
    mode = data.get("mode") or "all"
    counts = form.counts
    if mode == "tag":
        try:
            n = counts.by_tag.get(int(data.get("tag") or 0), 0)
        except ValueError:
            n = 0
    elif mode == "stage":
        n = counts.by_stage.get(data.get("stage") or "", 0)
    else:
        n = counts.total
    chosen = set(data.getlist("takeovers"))  # an unbound form's data is an empty MultiValueDict
    takeovers = [s for s in form.fields["takeovers"].queryset if str(s.pk) in chosen]
    return {"count": n, "takeovers": takeovers}


@require_GET
@console_required(roles=MANAGER_ROLES)
def handover_home(request: HttpRequest) -> HttpResponse:
    guides = selectors.staff_with_customer_counts(viewer=request.staff)
    batches = Paginator(selectors.batch_list(viewer=request.staff), BATCHES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/handover.html", {"guides": guides, "batches": batches})


@require_POST
@console_required(roles=MANAGER_ROLES)
def handover_depart(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = selectors.staff_get_manageable(viewer=request.staff, staff_id=staff_id)
    try:
        staff = services.staff_mark_departed(staff=staff, by=request.staff)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("console:handover")
    messages.success(request, _("已将 %(name)s 标记为离职，请为其客户选择接替导购。") % {"name": staff.name})
    return redirect("console:handover_new", staff_id=staff.pk)


@require_POST
@console_required(roles=MANAGER_ROLES)
def handover_reinstate(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = selectors.staff_get_manageable(viewer=request.staff, staff_id=staff_id)
    try:
        staff = services.staff_reinstate(staff=staff, by=request.staff)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("已恢复 %(name)s 为在职，其可以重新登录。") % {"name": staff.name})
    return redirect("console:handover")


@require_http_methods(["GET", "POST"])
@console_required(roles=MANAGER_ROLES)
def handover_new(request: HttpRequest, staff_id: int) -> HttpResponse:
    handover = selectors.staff_get_manageable(viewer=request.staff, staff_id=staff_id)
    counts = selectors.selection_counts(handover=handover)
    kwargs = {"viewer": request.staff, "handover": handover, "counts": counts}
    if request.method == "GET" and request.htmx and "preview" in request.GET:
        form = HandoverForm(request.GET, **kwargs)
        context = {"form": form, "handover": handover, "preview": _preview(form)}
        return render(request, "console/handover_form.html#preview", context)
    status = 200
    if request.method == "POST":
        form = HandoverForm(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                batch = services.handover_batch_create(
                    handover=handover,
                    takeovers=list(data["takeovers"]),
                    relations=data["relations"],
                    created_by=request.staff,
                    request_key=data["request_key"],
                    transfer_success_msg=data.get("transfer_success_msg") or "",
                    selection=form.selection(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已提交 %(n)s 位客户的转接。") % {"n": batch.items.count()})
                return redirect("console:handover_batch", pk=batch.pk)
        status = 400
    else:
        form = HandoverForm(initial={"request_key": uuid.uuid4().hex, "mode": "all"}, **kwargs)
    context = {"form": form, "handover": handover, "counts": counts, "preview": _preview(form)}
    return render(request, "console/handover_form.html", context, status=status)


@require_GET
@console_required(roles=MANAGER_ROLES)
def handover_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_get(viewer=request.staff, batch_id=pk)
    state = request.GET.get("state", "")
    state = state if state in HandoverItem.State.values else ""
    items = Paginator(selectors.batch_items(batch=batch, state=state), ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "batch": batch,
        "items": items,
        "state": state,
        "states": HandoverItem.State.choices,
        "retryable": batch.n_unsuccessful,
        "open": batch.n_open,
        "send_error": selectors.batch_send_error(batch=batch) if batch.n_pending else None,
    }
    template = "console/handover_batch.html#body" if request.htmx else "console/handover_batch.html"
    return render(request, template, context)


@require_POST
@console_required(roles=MANAGER_ROLES)
def handover_retry(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_get(viewer=request.staff, batch_id=pk)
    count = services.handover_batch_retry(batch=batch)
    if count:
        messages.success(request, _("已重新提交 %(n)s 位客户。") % {"n": count})
    else:
        messages.error(request, _("没有可重试的客户（客户可能已不在原导购名下，或正在其他转接中）。"))
    return redirect("console:handover_batch", pk=batch.pk)
