"""The sidebar's material tab: find a material and send it into the open chat in one tap.

The page lists and searches with plain GETs (htmx swaps the results; without JS the form still
works). Sending needs WeCom's JS-SDK: static/sidebar/materials.js asks `material_prepare` for the
payload, calls sidebarSDK.send, then reports the outcome to `material_send_report`.
"""

import json
from functools import wraps
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from scrm.materials import guide_selectors as selectors
from scrm.materials import sending
from scrm.materials.models import Material
from scrm.materials.services import material_favourite_set
from scrm.text import storable
from sidebar.lookup import NOT_YOURS, customer_or_404, swaps_main
from sidebar.send_outcomes import send_outcome_detail, send_outcome_message
from sidebar.signin import sidebar_staff_required

MAX_QUERY = 50
MAX_OFFSET = 10_000
# What static/sidebar/bootstrap.js's sidebarSDK.send throws when the page never connected to WeCom.
NO_SDK_ERROR = "sdk not ready"


def _int(value: str, *, default: int | None, low: int = 0, high: int = 2**31) -> int | None:
    """A bounded int from a query parameter; anything else is the default, never a 500."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if low <= number <= high else default


def _materials_url(external_userid: str, *, base: str = "", **params) -> str:
    base = base or reverse("sidebar:materials", args=[external_userid])
    kept = {key: value for key, value in params.items() if value not in (None, "", 0)}
    return f"{base}?{urlencode(kept)}" if kept else base


def _add_card_urls(external_userid: str, cards: list[selectors.MaterialCard]) -> None:
    """Reverse each card URL once per page and fill in the ids: reversing costs more than rendering a card."""
    marker = 2**31 - 1  # no material has this id
    patterns = {
        name: reverse(f"sidebar:{name}", args=[external_userid, marker]).rsplit(f"/{marker}/", 1)
        for name in ("material_prepare", "material_favourite")
    }
    for card in cards:
        pk = card.material.pk
        card.prepare_url = f"/{pk}/".join(patterns["material_prepare"])
        card.favourite_url = f"/{pk}/".join(patterns["material_favourite"])


def _context(request: HttpRequest, customer, external_userid: str) -> dict:
    q = request.GET.get("q", "").strip()[:MAX_QUERY]
    category_id = _int(request.GET.get("cat", ""), default=None, low=1)
    offset = _int(request.GET.get("offset", ""), default=0, high=MAX_OFFSET)
    page = selectors.material_page(
        staff=request.staff,
        customer=customer,
        section=request.GET.get("section", ""),
        q=q,
        category_id=category_id,
        offset=offset,
    )
    section = page.section  # an unknown section falls back to 推荐 there
    _add_card_urls(external_userid, page.cards)
    top, children, trail = selectors.category_chips(category_id=category_id)

    action_url = reverse("sidebar:materials", args=[external_userid])

    def url(**changes) -> str:
        # Reversed once above: a page has a link per section and per category chip.
        params = {"section": section, "q": q, "cat": category_id} | changes
        return _materials_url(external_userid, base=action_url, **params)

    return {
        "customer": customer,
        "external_userid": external_userid,
        "tab": "materials",
        "page": page,
        "section": section,
        "q": q,
        "category_id": category_id,
        "sections": [(value, label, url(section=value), value == section) for value, label in selectors.SECTIONS],
        "all_categories_url": url(cat=None),
        "top_categories": [(chip, url(cat=chip.node.category.pk)) for chip in top],
        "child_categories": [(chip, url(cat=chip.node.category.pk)) for chip in children],
        "trail": trail,
        "more_url": url(offset=page.next_offset) if page.has_more else "",
        "action_url": action_url,
        # Where the no-JS favourite form comes back to.
        "next_url": request.get_full_path(),
    }


@require_GET
@sidebar_staff_required
def materials(request: HttpRequest, external_userid: str) -> HttpResponse:
    customer = customer_or_404(request, external_userid)
    context = _context(request, customer, external_userid)
    target = request.htmx.target if request.htmx else None
    if target == "mat-results":
        template = "sidebar/materials.html#results"
    elif request.htmx and target and target.startswith("mat-more"):
        template = "sidebar/materials.html#cards"
    elif swaps_main(request):
        template = "sidebar/materials.html#screen"
    else:
        template = "sidebar/materials.html"
    return render(request, template, context)


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _json_not_found(view):
    """materials.js reads {"error"} from these endpoints: a 404 must be JSON too, never the HTML page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return _error(str(NOT_YOURS), status=404)  # the only 404 these views raise

    return wrapper


@require_POST
@sidebar_staff_required
@_json_not_found
def material_prepare(request: HttpRequest, external_userid: str, material_id: int) -> JsonResponse:
    """The sendChatMessage payload for one tap, with the request_id to report its outcome under."""
    customer = customer_or_404(request, external_userid)
    material = Material.objects.filter(pk=material_id).first()
    if material is None:
        return _error(_("素材不存在或已被删除。"), status=404)
    try:
        prepared = sending.material_send_prepare(material=material, customer=customer, staff=request.staff)
    except sending.MaterialSendError as exc:
        return _error(exc.message, status=exc.status)
    return JsonResponse(
        {
            "request_id": prepared.request_id,
            "msg": prepared.msg,
            "confirm": prepared.confirm,
            "report_url": reverse("sidebar:material_send_report", args=[external_userid, prepared.request_id]),
        }
    )


def _report_fields(request: HttpRequest) -> dict | None:
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        return body if isinstance(body, dict) else None
    return request.POST.dict()


@require_POST
@sidebar_staff_required
@_json_not_found
def material_send_report(request: HttpRequest, external_userid: str, request_id: str) -> JsonResponse:
    """How a tap ended (sent / failed / cancelled, with WeCom's errMsg); recorded once per request_id."""
    customer = customer_or_404(request, external_userid)
    fields = _report_fields(request)
    if fields is None:
        return _error(_("请求格式不正确。"))
    # From the page (WeCom's errMsg): stored, so nothing PostgreSQL cannot hold.
    error = storable(str(fields.get("errMsg") or fields.get("error") or ""))
    if fields.get("status") == "failed" and NO_SDK_ERROR in error:
        # The page had no WeCom bridge (an older materials.js still reports it): nothing reached WeCom,
        # so nothing is recorded and the material's statistics stay clean.
        sending.material_send_discard(request_id=request_id, customer=customer, staff=request.staff)
        return _error(_("请在企业微信的聊天侧边栏中发送（当前页面没有连接企业微信）。"), status=409)
    try:
        outcome = sending.material_send_record(
            request_id=request_id,
            customer=customer,
            staff=request.staff,
            status=storable(str(fields.get("status", ""))),
            error=error,
        )
    except sending.MaterialSendError as exc:
        return _error(exc.message, status=exc.status)
    send = outcome.send
    return JsonResponse(
        {
            "status": send.status,
            "message": send_outcome_message(send),
            # WeCom's own words, shown small under the explanation for whoever has to look into it.
            "detail": send_outcome_detail(send),
            "retry": outcome.retry,
            # A cancel is the guide's choice, not a failure to work around.
            "copy": send.status == send.Status.FAILED and send.material.kind == Material.Kind.TEXT,
        }
    )


@require_POST
@sidebar_staff_required
@_json_not_found
def material_favourite(request: HttpRequest, external_userid: str, material_id: int) -> HttpResponse:
    customer_or_404(request, external_userid)
    material = Material.objects.filter(pk=material_id).first()
    if material is None:
        return _error(_("素材不存在或已被删除。"), status=404)
    on = request.POST.get("on") == "1"
    material_favourite_set(staff=request.staff, material=material, on=on)
    if request.htmx:
        card = {"favourite_url": request.path, "is_favourite": on}  # what the card's star reads
        context = {"card": card, "next_url": _materials_url(external_userid)}
        return render(request, "sidebar/materials.html#fav", context)
    back = request.POST.get("next", "")
    page = reverse("sidebar:materials", args=[external_userid])
    # Only back to this customer's material page, never to an arbitrary URL.
    return redirect(back if back.split("?", 1)[0] == page else page)
