"""身份核对 on the portrait: the guide confirms or rejects a merge suggestion, or undoes a merge a phone
caused ("不是同一人"), in one tap. Only for the customer in the chat, whom the guide serves."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from scrm.customers.identity_merge import customer_merge_undo, merge_suggestion_confirm, merge_suggestion_reject
from scrm.customers.identity_review import phone_merge_for_customer, suggestion_for_customer
from scrm.customers.models import MergeSuggestion
from sidebar.lookup import customer_or_404
from sidebar.signin import sidebar_staff_required
from sidebar.views import portrait_render


def _done(request: HttpRequest, external_userid: str, message: str) -> HttpResponse:
    # The chat's customer may be another record now (merged, or split back): look it up again.
    customer = customer_or_404(request, external_userid)
    if request.htmx:
        return portrait_render(request, customer, external_userid, review_message=message)
    return redirect(reverse("sidebar:portrait", args=[external_userid]))


def _gone() -> Http404:
    return Http404(_("这条身份核对已处理或不属于该客户，请刷新画像。"))


def _suggestion(request: HttpRequest, external_userid: str, suggestion_id: int) -> MergeSuggestion:
    """The open suggestion about the chat's customer, or 404 (already decided, or someone else's)."""
    customer = customer_or_404(request, external_userid)
    suggestion = suggestion_for_customer(customer=customer, suggestion_id=suggestion_id)
    if suggestion is None:
        raise _gone()
    return suggestion


@require_POST
@sidebar_staff_required
def suggestion_confirm(request: HttpRequest, external_userid: str, suggestion_id: int) -> HttpResponse:
    merge_suggestion_confirm(suggestion=_suggestion(request, external_userid, suggestion_id))
    return _done(request, external_userid, _("已合并为同一人。"))


@require_POST
@sidebar_staff_required
def suggestion_reject(request: HttpRequest, external_userid: str, suggestion_id: int) -> HttpResponse:
    merge_suggestion_reject(suggestion=_suggestion(request, external_userid, suggestion_id))
    return _done(request, external_userid, _("已记为不是同一人，不会再提示。"))


@require_POST
@sidebar_staff_required
def merge_undo(request: HttpRequest, external_userid: str, merge_id: int) -> HttpResponse:
    customer = customer_or_404(request, external_userid)
    merge = phone_merge_for_customer(customer=customer, merge_id=merge_id)
    if merge is None:
        raise _gone()
    customer_merge_undo(merge=merge)
    return _done(request, external_userid, _("已拆分：这两条记录不是同一人，不会再自动合并。"))
