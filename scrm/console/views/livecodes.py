"""渠道活码 pages: list, create / edit / delete, QR and poster downloads, decisions, and what each code is
worth. Admins manage every code; store managers the codes of their store."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from scrm.console.charts import adds_per_day_chart
from scrm.console.forms.common import add_service_errors
from scrm.console.forms.livecodes import LiveCodeForm, StoreWelcomeForm, WorthForm, livecode_initial
from scrm.console.permissions import MANAGER_ROLES, console_required
from scrm.livecodes import selectors, services
from scrm.livecodes.models import ChannelGroup, LiveCode, LiveCodeDayCount, StoreWelcome
from scrm.livecodes.poster import livecode_poster_png
from scrm.org.models import Staff

DECISIONS_SHOWN = 20


def _code_or_404(request, pk: int) -> LiveCode:
    code = selectors.livecodes_for(staff=request.staff).filter(pk=pk).first()
    if code is None:
        raise Http404(_("活码不存在"))
    return code


@console_required(roles=MANAGER_ROLES)
def livecode_list(request):
    group = request.GET.get("group", "")
    if group not in ChannelGroup.values:
        group = ""
    codes = selectors.livecodes_for(staff=request.staff)
    if group:
        codes = codes.filter(channel_group=group)
    codes = list(codes)
    today = LiveCodeDayCount.objects.filter(code__in=codes, day=timezone.localdate())
    adds_today: dict[int, int] = {}
    for row in today:
        adds_today[row.code_id] = adds_today.get(row.code_id, 0) + row.count + row.over_cap
    names = dict(
        Staff.objects.filter(userid__in={u for c in codes for u in c.wecom_users}).values_list("userid", "name")
    )
    rows = [
        {"code": c, "adds_today": adds_today.get(c.pk, 0), "answering": [names.get(u, u) for u in c.wecom_users]}
        for c in codes
    ]
    context = {"rows": rows, "groups": ChannelGroup.choices, "group": group}
    return render(request, "console/livecodes_list.html", context)


@console_required(roles=MANAGER_ROLES)
def livecode_create(request):
    form = LiveCodeForm(request.POST or None, viewer=request.staff)
    if request.method == "POST" and form.is_valid():
        try:
            code = services.livecode_create(data=form.code_input(), created_by=request.staff)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("活码已创建。"))
            return redirect("console:livecode_detail", pk=code.pk)
    status = 400 if form.is_bound else 200
    return render(request, "console/livecodes_form.html", {"form": form}, status=status)


@console_required(roles=MANAGER_ROLES)
def livecode_edit(request, pk: int):
    code = _code_or_404(request, pk)
    form = LiveCodeForm(request.POST or None, viewer=request.staff, initial=livecode_initial(code))
    if request.method == "POST" and form.is_valid():
        try:
            services.livecode_update(code=code, data=form.code_input())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("修改已保存，并已同步到企业微信。"))
            return redirect("console:livecode_detail", pk=code.pk)
    status = 400 if form.is_bound else 200
    return render(request, "console/livecodes_form.html", {"form": form, "code": code}, status=status)


@require_POST
@console_required(roles=MANAGER_ROLES)
def livecode_delete(request, pk: int):
    code = _code_or_404(request, pk)
    services.livecode_delete(code=code)
    messages.success(request, _("活码「%(name)s」已删除，二维码随即失效；已添加的客户不受影响。") % {"name": code.name})
    return redirect("console:livecodes")


@console_required(roles=MANAGER_ROLES)
def livecode_detail(request, pk: int):
    code = _code_or_404(request, pk)
    members = list(code.members.select_related("staff"))
    decisions = list(code.decisions.all()[:DECISIONS_SHOWN])
    userids = set(code.wecom_users) | {u for d in decisions for u in d.users_after}
    names = dict(Staff.objects.filter(userid__in=userids).values_list("userid", "name"))
    for decision in decisions:
        decision.names_after = [names.get(u, u) for u in decision.users_after]
    end = timezone.localdate()
    start = end - dt.timedelta(days=29)
    worth = selectors.livecode_worth(codes=LiveCode.objects.filter(pk=code.pk), start=start, end=end)
    context = {
        "code": code,
        "guides": [m.staff for m in members if not m.backup],
        "backups": [m.staff for m in members if m.backup],
        "answering": [names.get(u, u) for u in code.wecom_users],
        "decisions": decisions,
        "attachments": [a.material for a in code.attachments.select_related("material")],
        "worth": worth[0] if worth else None,
        "adds_chart": adds_per_day_chart(worth, start, end) if worth else None,
        "qr_url": code.qr_image.url if code.qr_image else code.qr_code,
    }
    return render(request, "console/livecodes_detail.html", context)


def _qr_bytes(code: LiveCode) -> bytes:
    # The local copy is fetched by Celery (and retried by the minute sweep): pages never wait on WeCom.
    if not code.qr_image:
        raise Http404(_("二维码尚未生成，请稍后再试。"))
    try:
        with code.qr_image.open("rb") as fileobj:
            return fileobj.read()
    except FileNotFoundError:
        raise Http404(_("二维码尚未生成，请稍后再试。")) from None


def _download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="image/png")
    response["Content-Disposition"] = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@console_required(roles=MANAGER_ROLES)
def livecode_qr(request, pk: int):
    code = _code_or_404(request, pk)
    return _download(_qr_bytes(code), f"{code.state}.png")


@console_required(roles=MANAGER_ROLES)
def livecode_poster(request, pk: int):
    code = _code_or_404(request, pk)
    cta = request.GET.get("cta", "").strip()[:18]
    png = livecode_poster_png(code=code, qr_png=_qr_bytes(code), call_to_action=cta)
    return _download(png, f"{code.state}-poster.png")


# --- what each code is worth ------------------------------------------------------------------


@console_required(roles=MANAGER_ROLES)
def livecode_report(request):
    form = WorthForm(request.GET or None)
    rows = []
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - dt.timedelta(days=29)
        # Deleted codes still count: their adds happened.
        codes = LiveCode.objects.all()
        if request.staff.role == Staff.Role.MANAGER:
            codes = codes.filter(store_id=request.staff.store_id)
        if data.get("group"):
            codes = codes.filter(channel_group=data["group"])
        rows = selectors.livecode_worth(codes=codes, start=start, end=end, by=data.get("by") or "code")
        status = 200
    else:
        start = end = None
        status = 400
    context = {
        "form": form,
        "rows": rows,
        "start": start,
        "end": end,
        "adds_chart": adds_per_day_chart(rows, start, end) if rows else None,
    }
    return render(request, "console/livecodes_report.html", context, status=status)


# --- store default welcome --------------------------------------------------------------------


@console_required(roles=MANAGER_ROLES)
def store_welcome(request):
    form = StoreWelcomeForm(request.POST or None, viewer=request.staff)
    if request.method == "POST" and form.is_valid():
        services.store_welcome_set(store=form.cleaned_data["store"], text=form.cleaned_data["text"])
        messages.success(request, _("门店默认欢迎语已保存。"))
        return redirect("console:livecode_store_welcome")
    welcomes = StoreWelcome.objects.filter(store__in=form.fields["store"].queryset).select_related("store")
    status = 400 if form.is_bound else 200
    return render(request, "console/livecodes_welcome.html", {"form": form, "welcomes": welcomes}, status=status)
