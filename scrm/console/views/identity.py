"""身份核对 for admins, brand-wide: open merge suggestions, merges a phone made, refused joins (conflicts),
both sides shown with where each identity came from; the guide's actions plus closing a conflict."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from scrm.console.permissions import ADMIN_ROLES, console_required
from scrm.customers import identity_review
from scrm.customers.identity_merge import (
    customer_merge_undo,
    identity_conflict_resolve,
    merge_suggestion_confirm,
    merge_suggestion_reject,
)


def _found(item):
    if item is None:
        raise Http404(_("这条身份核对已处理，请刷新页面。"))
    return item


@console_required(roles=ADMIN_ROLES)
def identity_home(request):
    return render(request, "console/identity.html", {"review": identity_review.review_brandwide()})


@require_POST
@console_required(roles=ADMIN_ROLES)
def suggestion_confirm(request, suggestion_id: int):
    merge_suggestion_confirm(suggestion=_found(identity_review.suggestion_open(suggestion_id=suggestion_id)))
    messages.success(request, _("已合并为同一人。"))
    return redirect("console:identity")


@require_POST
@console_required(roles=ADMIN_ROLES)
def suggestion_reject(request, suggestion_id: int):
    merge_suggestion_reject(suggestion=_found(identity_review.suggestion_open(suggestion_id=suggestion_id)))
    messages.success(request, _("已记为不是同一人，不会再提示。"))
    return redirect("console:identity")


@require_POST
@console_required(roles=ADMIN_ROLES)
def merge_undo(request, merge_id: int):
    customer_merge_undo(merge=_found(identity_review.phone_merge_standing(merge_id=merge_id)))
    messages.success(request, _("已拆分：这两条记录不是同一人，不会再自动合并。"))
    return redirect("console:identity")


@require_POST
@console_required(roles=ADMIN_ROLES)
def conflict_resolve(request, conflict_id: int):
    identity_conflict_resolve(conflict=_found(identity_review.conflict_open(conflict_id=conflict_id)))
    messages.success(request, _("已标记为已处理。"))
    return redirect("console:identity")
