"""自动化任务 (SOP rules; managers for their store, admins for all): the list with a new-rule form, and
enable / disable."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from scrm.console.forms.sop import SopRuleForm
from scrm.console.permissions import MANAGER_ROLES, console_required
from scrm.today import sop_services
from scrm.today.selectors import sop_rule_figures, sop_rules_listed, sop_rules_visible


def _page(request, form, *, status: int = 200):
    rules = list(sop_rules_listed(viewer=request.staff)[:100])
    figures = sop_rule_figures(rule_ids=[r.pk for r in rules])
    rows = [(r, figures.get(r.pk, {"live": 0, "done": 0})) for r in rules]
    editable = set(
        sop_rules_visible(viewer=request.staff).filter(pk__in=[r.pk for r in rules]).values_list("pk", flat=True)
    )
    return render(request, "console/sop.html", {"form": form, "rows": rows, "editable": editable}, status=status)


@require_http_methods(["GET", "POST"])
@console_required(roles=MANAGER_ROLES)
def sop_rules(request):
    if request.method == "GET":
        return _page(request, SopRuleForm(viewer=request.staff))
    form = SopRuleForm(request.POST, viewer=request.staff)
    if form.is_valid():
        try:
            rule = sop_services.sop_rule_create(draft=form.draft(), staff=request.staff)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request, _("已创建自动化任务「%(name)s」，符合条件的客户会出现在导购的今日里。") % {"name": rule.name}
            )
            return redirect("console:sop_rules")
    return _page(request, form, status=400)


@require_POST
@console_required(roles=MANAGER_ROLES)
def sop_rule_toggle(request, rule_id: int):
    rule = get_object_or_404(sop_rules_visible(viewer=request.staff), pk=rule_id)
    enabled = request.POST.get("enabled") == "1"
    sop_services.sop_rule_set_enabled(rule=rule, enabled=enabled)
    text = _("已启用「%(name)s」。") if enabled else _("已停用「%(name)s」，未处理的提醒已收回。")
    messages.success(request, text % {"name": rule.name})
    return redirect("console:sop_rules")
