"""今日: the guide's workbench (WeCom 工作台 app page and a sidebar tab). Thin: selectors read, services write."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html_join
from django.views.decorators.http import require_GET, require_POST

from scrm.customers import selectors as customer_selectors
from scrm.customers.models import FollowRelation
from scrm.htmx import template_for_target
from scrm.taskcards.selectors import open_items_for_guide
from scrm.today import selectors, services
from scrm.today.models import ReminderItem, ReminderKind
from sidebar.signin import sidebar_staff_required
from sidebar.today_forms import DismissForm, SnoozeForm

TEMPLATE = "sidebar/today.html"
PARTIALS = {"main": "screen", "today-list": "list", "today-more-*": "rows"}
EXT_RE = re.compile(r"[\w-]{1,64}")


def _kind(request: HttpRequest) -> str:
    kind = request.GET.get("kind") or request.POST.get("kind") or ""
    return kind if kind in ReminderKind.values else ""


def _offset(request: HttpRequest) -> int:
    try:
        offset = int(request.GET.get("offset", "0"))
    except ValueError:
        return 0
    return min(max(offset, 0), selectors.WORKBENCH_MAX_OFFSET)


def _ext(request: HttpRequest) -> str:
    """?ext= (the chat the 今日 tab was opened from), only when it can be an external_userid."""
    ext = request.GET.get("ext", "")
    return ext if EXT_RE.fullmatch(ext) else ""


def _dismiss_options() -> str:
    return format_html_join(
        "", '<option value="{}">{}</option>', ((v, str(label)) for v, label in ReminderItem.DismissReason.choices)
    )


def _chat_ids(staff, items) -> dict[int, str]:
    """external_userid of the guide's active relation per customer: what openEnterpriseChat takes."""
    return dict(
        FollowRelation.objects.filter(
            staff=staff, customer_id__in={i.customer_id for i in items}, ended_at__isnull=True
        ).values_list("customer_id", "external_userid")
    )


HANDOVER_DIGEST = 3  # more inherited customers than this show as one row in 全部


def _list_context(request: HttpRequest, **extra) -> dict:
    kind = _kind(request)
    offset = _offset(request)
    page = selectors.WORKBENCH_PAGE
    counts = selectors.workbench_counts(staff=request.staff)
    # After a hand-over dozens of "say hello" items would bury the urgent ones: in 全部 they are one row.
    handovers = counts[ReminderKind.HANDOVER] if not kind and counts[ReminderKind.HANDOVER] > HANDOVER_DIGEST else 0
    items = selectors.workbench_items(
        staff=request.staff,
        kind=kind,
        offset=offset,
        limit=page + 1,
        leave_out=ReminderKind.HANDOVER if handovers else "",
    )
    more, items = len(items) > page, items[:page]
    chat_ids = _chat_ids(request.staff, items)
    if extra.get("error_item") not in {i.pk for i in items}:
        extra["error_item"] = None  # not on the list any more: the error shows above it
    return {
        "kind": kind,
        "offset": offset,
        "next_offset": offset + page if more else None,
        "rows": [(item, chat_ids.get(item.customer_id, "")) for item in items],
        "counters": [(value, label, counts[value]) for value, label in ReminderKind.choices],
        "total": sum(counts.values()),
        "handover_digest": handovers if not offset else 0,
        "done": selectors.done_today(staff=request.staff),
        # Rendered once per page, not once per item (lazy labels and url reversals add up over 50 items).
        "dismiss_options": _dismiss_options(),
        "action_base": reverse("sidebar:today"),
        # Opened in the chat sidebar: the tabs lead back to this chat's customer.
        "external_userid": _ext(request),
        **extra,
    }


@require_GET
@sidebar_staff_required
def today(request: HttpRequest) -> HttpResponse:
    context = _list_context(request)
    # 任务卡 from headquarters: each open item with the task's name as the reason, nearest deadline first.
    task_items = open_items_for_guide(staff=request.staff)
    task_chats = _chat_ids(request.staff, task_items)
    context.update(
        task_rows=[(item, task_chats.get(item.customer_id, "")) for item in task_items],
        jssdk_script=static(settings.WECOM_JSSDK_SCRIPT),
        bridge_script=static("wecom/sim-jssdk.js") if settings.WECOM_SIMULATOR else "",
        corp_id=settings.WECOM_CORP_ID,
        agent_id=settings.WECOM_AGENT_ID,
        config_url=reverse("sidebar:jssdk_config"),
        tab="today",
    )
    return render(request, template_for_target(request, TEMPLATE, PARTIALS), context)


def _item_or_404(request: HttpRequest, item_id: int) -> ReminderItem:
    item = ReminderItem.objects.filter(pk=item_id, staff=request.staff).first()
    if item is None:
        raise Http404("reminder not found")
    return item


def _after_action(request: HttpRequest, *, error: str = "", error_item: int | None = None) -> HttpResponse:
    if not request.htmx:
        if error:
            return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
        return redirect(reverse("sidebar:today"))
    context = _list_context(request, error=error, error_item=error_item)
    return render(request, f"{TEMPLATE}#list", context, status=400 if error else 200)


def _act(request: HttpRequest, item_id: int, action) -> HttpResponse:
    item = _item_or_404(request, item_id)
    try:
        action(item)
    except ValidationError as exc:
        return _after_action(request, error=exc.messages[0], error_item=item.pk)
    return _after_action(request)


@require_POST
@sidebar_staff_required
def today_snooze(request: HttpRequest, item_id: int) -> HttpResponse:
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        return _after_action(request, error=form.errors["until"][0], error_item=item_id)
    until = form.cleaned_data["until"]
    return _act(request, item_id, lambda item: services.reminder_snooze(item=item, staff=request.staff, until=until))


@require_POST
@sidebar_staff_required
def today_dismiss(request: HttpRequest, item_id: int) -> HttpResponse:
    form = DismissForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return _after_action(request, error=first, error_item=item_id)
    data = form.cleaned_data
    return _act(
        request,
        item_id,
        lambda item: services.reminder_dismiss(
            item=item, staff=request.staff, reason=data["reason"], note=data["note"]
        ),
    )


@require_POST
@sidebar_staff_required
def today_done(request: HttpRequest, item_id: int) -> HttpResponse:
    return _act(request, item_id, lambda item: services.reminder_done(item=item, staff=request.staff))


# --- the banner on top of the portrait ----------------------------------------------------------


@require_GET
@sidebar_staff_required
def today_banner(request: HttpRequest, external_userid: str) -> HttpResponse:
    """This guide's reminder for the customer (reason + recommended material ready to send) and what
    happened since they last talked; reloaded after a send so a done item shows as done."""
    customer = customer_selectors.customer_get_for_staff(staff=request.staff, external_userid=external_userid)
    if customer is None:
        raise Http404("not your customer")
    item = selectors.reminder_for_chat(staff=request.staff, customer_id=customer.pk)
    material = item.material if item and item.material and item.material.is_sendable() else None
    context = {
        "item": item,
        "done": None if item else selectors.done_today_for(staff=request.staff, customer_id=customer.pk),
        "material": material,
        "prepare_url": reverse("sidebar:material_prepare", args=[external_userid, material.pk]) if material else "",
        "since": selectors.since_last_talk(customer_id=customer.pk, staff=request.staff),
        "external_userid": external_userid,
    }
    return render(request, "sidebar/_today_banner.html", context)
