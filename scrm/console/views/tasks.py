"""任务卡 (managers for their store, admins for all): list with progress, create, and a task's progress."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from scrm.console.forms.tasks import TaskForm
from scrm.console.permissions import MANAGER_ROLES, console_required
from scrm.csv_export import csv_response
from scrm.segments.presentation import spec_describe
from scrm.segments.selectors import segment_get
from scrm.taskcards import selectors, services


@require_GET
@console_required(roles=MANAGER_ROLES)
def task_list(request):
    tasks = list(selectors.tasks_visible(viewer=request.staff)[:100])
    totals = selectors.task_totals(tasks=tasks)
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
                messages.success(
                    request,
                    _("已创建任务「%(name)s」，共 %(n)s 位客户。") % {"name": task.name, "n": task.items.count()},
                )
                return redirect("console:task_detail", task_id=task.pk)
        return render(request, "console/task_form.html", {"form": form}, status=400)
    initial = {}
    if segment_id := request.GET.get("segment", ""):
        if segment_id.isdigit():
            initial["segment"] = segment_get(viewer=request.staff, segment_id=int(segment_id))
    form = TaskForm(viewer=request.staff, initial=initial)
    return render(request, "console/task_form.html", {"form": form})


@require_GET
@console_required(roles=MANAGER_ROLES)
def task_detail(request, task_id: int):
    task = selectors.task_get(viewer=request.staff, task_id=task_id)
    progress = selectors.task_progress(task=task)
    if request.GET.get("export") == "csv":
        header = ["门店", "导购", "分配", "已发送", "未发送", f"{task.order_window_days} 天内下单", "券已核销"]
        rows = ([p.store, p.label, p.assigned, p.sent, p.open, p.ordered, p.redeemed] for p in progress.guides)
        return csv_response(f"任务进度-{task.name}", header, rows)
    context = {
        "task": task,
        "progress": progress,
        "conditions": spec_describe(task.spec),
        "now": timezone.now(),
    }
    return render(request, "console/task_detail.html", context)
