"""Customer hand-over pages (客户继承): managers for their store, admins for all.

The form picks the old guide's customers (all, by tag, by lifecycle stage) and the receiving
guide(s); scrm.handover.services makes the batch and sends it to WeCom after commit.
"""

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from scrm.console.permissions import MANAGER_ROLES, console_required
from scrm.customers.models import LifecycleStage, Tag
from scrm.handover import selectors, services
from scrm.handover.models import HandoverItem
from scrm.org.models import Staff

ITEMS_PER_PAGE = 100
BATCHES_PER_PAGE = 20


class TakeoverField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        store = f" · {obj.store.name}" if obj.store else ""
        return f"{obj.name}（{obj.get_role_display()}{store}）"


class HandoverForm(forms.Form):
    MODES = [("all", gettext_lazy("全部客户")), ("tag", gettext_lazy("按标签")), ("stage", gettext_lazy("按生命周期"))]

    mode = forms.ChoiceField(label=gettext_lazy("转接哪些客户"), choices=MODES, initial="all", widget=forms.RadioSelect)
    tag = forms.ModelChoiceField(
        label=gettext_lazy("标签"),
        queryset=Tag.objects.none(),
        required=False,
        empty_label="—",
        error_messages={"invalid_choice": gettext_lazy("请选择原导购客户身上的标签")},
    )
    stage = forms.ChoiceField(
        label=gettext_lazy("生命周期"),
        choices=[("", "—"), *LifecycleStage.choices],
        required=False,
        error_messages={"invalid_choice": gettext_lazy("请选择有效的生命周期")},
    )
    takeovers = TakeoverField(
        label=gettext_lazy("接替导购"),
        queryset=Staff.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("选择多位时，客户按顺序轮流平均分配。"),
        error_messages={
            "required": gettext_lazy("请选择接替导购"),
            "invalid_choice": gettext_lazy("接替导购须为可管理门店的在职导购，且不能是原导购"),
            "invalid_pk_value": gettext_lazy("接替导购须为可管理门店的在职导购，且不能是原导购"),
            "invalid_list": gettext_lazy("请选择接替导购"),
        },
    )
    transfer_success_msg = forms.CharField(
        label=gettext_lazy("转接提示语"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("在职转接时发给客户；客户 24 小时内可拒绝。不填则使用企业微信默认提示语。"),
        error_messages={"max_length": gettext_lazy("转接提示语最多 200 个字")},
    )
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, viewer: Staff, handover: Staff, counts: selectors.SelectionCounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.handover = handover
        self.counts = counts
        self.fields["takeovers"].queryset = selectors.takeover_choices(viewer=viewer, handover=handover)
        tag_field = self.fields["tag"]
        tag_field.queryset = selectors.tags_in_use(tag_ids=counts.by_tag)
        tag_field.label_from_instance = lambda t: f"{t.group.name} / {t.name}（{counts.by_tag.get(t.pk, 0)}）"
        self.fields["stage"].choices = [("", "—")] + [
            (value, f"{label}（{counts.by_stage.get(value, 0)}）") for value, label in LifecycleStage.choices
        ]
        self.fields["mode"].choices = [
            ("all", _("全部客户（%(n)s）") % {"n": counts.total}),
            ("tag", _("按标签")),
            ("stage", _("按生命周期")),
        ]
        if not handover.is_active:
            # 离职继承 sends no message to the customer.
            del self.fields["transfer_success_msg"]

    def clean(self):
        data = super().clean()
        mode = data.get("mode")
        if mode == "tag" and not data.get("tag") and "tag" not in self.errors:
            self.add_error("tag", _("请选择标签"))
        if mode == "stage" and not data.get("stage") and "stage" not in self.errors:
            self.add_error("stage", _("请选择生命周期"))
        if self.errors or not mode:
            return data
        relations = list(
            selectors.handover_select(
                handover=self.handover, mode=mode, tag=data.get("tag"), stage=data.get("stage") or ""
            )
        )
        if not relations:
            raise ValidationError(_("所选范围内没有可转接的客户"))
        data["relations"] = relations
        return data

    def selection(self) -> dict:
        data = self.cleaned_data
        mode = data["mode"]
        if mode == "tag":
            label = _("标签：%(tag)s") % {"tag": data["tag"].name}
        elif mode == "stage":
            label = _("生命周期：%(stage)s") % {"stage": LifecycleStage(data["stage"]).label}
        else:
            label = _("全部客户")
        return {"mode": mode, "label": label}


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
        "retryable": batch.n_refused + batch.n_failed,
        "open": batch.n_pending + batch.n_sending + batch.n_waiting,
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
