"""任务卡 in the chat sidebar: the card on top of the portrait and its one-tap send.

The send rides the material tab's JS (static/sidebar/materials.js): the card's button names
`task_prepare`, which answers the sendChatMessage payload (coupon code filled in) and the URL to report
the outcome to, `task_send_report`, which completes the item once.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from scrm.taskcards import selectors
from scrm.taskcards.models import TaskItem
from scrm.taskcards.sending import TaskSendError, item_preview, task_send_prepare, task_send_record
from scrm.text import storable
from sidebar.lookup import customer_or_404
from sidebar.material_views import NO_SDK_ERROR, _error, _json_not_found, _report_fields
from sidebar.signin import sidebar_staff_required


def _item(request: HttpRequest, customer, item_id: int) -> TaskItem | None:
    return (
        TaskItem.objects.select_related("task", "task__material", "customer")
        .filter(pk=item_id, staff=request.staff, customer=customer)
        .first()
    )


@require_GET
@sidebar_staff_required
def task_card(request: HttpRequest, external_userid: str) -> HttpResponse:
    """This guide's task items for the chat's customer; reloaded after a send so a sent item shows done."""
    customer = customer_or_404(request, external_userid)
    items = task_items_for_chat(request, customer, external_userid)
    return render(request, "sidebar/_task_card.html", {"items": items, "customer": customer})


def task_items_for_chat(request: HttpRequest, customer, external_userid: str) -> list[TaskItem]:
    """The card's items; the portrait renders them inline, so opening a chat costs no extra request."""
    items = selectors.items_for_chat(staff=request.staff, customer_id=customer.pk)
    for item in items:
        item.preview = item_preview(item=item, staff=request.staff)
        item.prepare_url = reverse("sidebar:task_prepare", args=[external_userid, item.pk])
    return items


@require_POST
@sidebar_staff_required
@_json_not_found
def task_prepare(request: HttpRequest, external_userid: str, item_id: int) -> JsonResponse:
    customer = customer_or_404(request, external_userid)
    item = _item(request, customer, item_id)
    if item is None:
        return _error(_("任务不存在或不是你的任务。"), status=404)
    try:
        prepared = task_send_prepare(item=item, staff=request.staff)
    except TaskSendError as exc:
        return _error(exc.message, status=exc.status)
    report_url = reverse("sidebar:task_send_report", args=[external_userid, item.pk, prepared.request_id])
    return JsonResponse(
        {"request_id": prepared.request_id, "msg": prepared.msg, "confirm": prepared.confirm, "report_url": report_url}
    )


def _message(status: str, error: str) -> str:
    if status == "sent":
        return _("已发送，任务完成")
    if status == "cancelled":
        return _("已取消")
    return _("企业微信未能发送（原因：%(reason)s）") % {"reason": error or _("未知")}


@require_POST
@sidebar_staff_required
@_json_not_found
def task_send_report(request: HttpRequest, external_userid: str, item_id: int, request_id: str) -> JsonResponse:
    customer = customer_or_404(request, external_userid)
    item = _item(request, customer, item_id)
    if item is None:
        return _error(_("任务不存在或不是你的任务。"), status=404)
    fields = _report_fields(request)
    if fields is None:
        return _error(_("请求格式不正确。"))
    error = storable(str(fields.get("errMsg") or fields.get("error") or ""))[:200]
    status = storable(str(fields.get("status", "")))
    if status == "failed" and NO_SDK_ERROR in error:
        return _error(_("请在企业微信的聊天侧边栏中发送（当前页面没有连接企业微信）。"), status=409)
    try:
        outcome = task_send_record(item=item, staff=request.staff, request_id=request_id, status=status)
    except TaskSendError as exc:
        return _error(exc.message, status=exc.status)
    return JsonResponse(
        {
            "status": outcome.status,
            "message": _message(outcome.status, error),
            "detail": "",
            "retry": False,
            "copy": outcome.status == "failed",
        }
    )
