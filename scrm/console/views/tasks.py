"""任务卡 (managers for their store, admins for all): list with progress, create, a task's progress, and a
group send's results and reminders."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from scrm.console.forms.tasks import TaskForm
from scrm.console.permissions import MANAGER_ROLES, console_required
from scrm.csv_export import csv_response
from scrm.segments.presentation import spec_describe
from scrm.segments.selectors import segment_get
from scrm.taskcards import groupsend_actions, selectors, services
from scrm.taskcards.groupsend_results import GroupSendError
from scrm.taskcards.models import Task
from scrm.taskcards.quota import quota_remaining
from scrm.taskcards.selectors import groupsend_customers, groupsend_guides


@require_GET
@console_required(roles=MANAGER_ROLES)
def task_list(request):
    tasks = list(selectors.tasks_visible(viewer=request.staff)[:100])
    totals = selectors.task_totals(tasks=tasks, store_id=selectors.progress_scope(viewer=request.staff))
    rows = [(task, totals.get(task.pk)) for task in tasks]
    return render(request, "console/tasks.html", {"rows": rows, "now": timezone.now()})


@require_http_methods(["GET", "POST"])
@console_required(roles=MANAGER_ROLES)
def task_create(request):
    if request.method == "POST":
        form = TaskForm(request.POST, request.FILES, viewer=request.staff)
        if form.is_valid():
            try:
                task = services.task_create(draft=form.draft(), staff=request.staff)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                text = _("已创建任务「%(name)s」，共 %(n)s 位客户。") % {"name": task.name, "n": task.items.count()}
                if task.quota_excluded:
                    text += _("另有 %(n)s 位客户本月已收满企业群发，未包含在内。") % {"n": task.quota_excluded}
                messages.success(request, text)
                return redirect("console:task_detail", task_id=task.pk)
        return render(request, "console/task_form.html", {"form": form}, status=400)
    initial = {}
    if segment_id := request.GET.get("segment", ""):
        if segment_id.isdigit():
            initial["segment"] = segment_get(viewer=request.staff, segment_id=int(segment_id))
    form = TaskForm(viewer=request.staff, initial=initial)
    return render(request, "console/task_form.html", {"form": form})


def _customer_results(task: Task) -> list:
    """A group send's customers with their result and how many more brand group messages they can get."""
    if task.kind != Task.Kind.GROUPSEND:
        return []
    items = groupsend_customers(task=task)
    left = quota_remaining(customer_ids=[i.customer_id for i in items])
    for item in items:
        item.quota_left = left[item.customer_id]
    return items


@require_GET
@console_required(roles=MANAGER_ROLES)
def task_detail(request, task_id: int):
    task = selectors.task_get(viewer=request.staff, task_id=task_id)
    progress = selectors.task_progress(task=task, store_id=selectors.progress_scope(viewer=request.staff))
    if request.GET.get("export") == "csv":
        header = ["门店", "导购", "分配", "已发送", "未发送", f"{task.order_window_days} 天内下单", "券已核销"]
        rows = ([p.store, p.label, p.assigned, p.sent, p.open, p.ordered, p.redeemed] for p in progress.guides)
        return csv_response(f"任务进度-{task.name}", header, rows)
    context = {
        "task": task,
        "progress": progress,
        "guide_sends": groupsend_guides(task=task) if task.kind == Task.Kind.GROUPSEND else [],
        "customer_results": _customer_results(task),
        "conditions": spec_describe(task.spec),
        "now": timezone.now(),
    }
    return render(request, "console/task_detail.html", context)


@require_POST
@console_required(roles=MANAGER_ROLES)
def task_groupsend_refresh(request, task_id: int):
    """更新结果: pull who sent and who received it from WeCom now (in Celery)."""
    task = selectors.task_get(viewer=request.staff, task_id=task_id)
    try:
        groupsend_actions.task_groupsend_refresh(task=task)
    except GroupSendError as exc:
        return HttpResponse(exc.message, status=exc.status)
    messages.success(request, _("正在从企业微信更新群发结果，稍后刷新页面查看。"))
    return redirect("console:task_detail", task_id=task.pk)


@require_POST
@console_required(roles=MANAGER_ROLES)
def task_groupsend_remind(request, task_id: int, batch_id: int):
    """提醒: WeCom reminds the guide to confirm the group send (3 times a day at most)."""
    task = selectors.task_get(viewer=request.staff, task_id=task_id)
    batches = task.batches.select_related("staff")
    if (store_id := selectors.progress_scope(viewer=request.staff)) is not None:
        batches = batches.filter(staff__store_id=store_id)  # a manager nudges their own guides only
    batch = get_object_or_404(batches, pk=batch_id)
    try:
        left = groupsend_actions.batch_remind_request(batch=batch)
    except GroupSendError as exc:
        messages.error(request, exc.message)
        return redirect("console:task_detail", task_id=task.pk)
    messages.success(request, _("已提醒 %(name)s，今天还可提醒 %(n)s 次。") % {"name": batch.staff.name, "n": left})
    return redirect("console:task_detail", task_id=task.pk)
