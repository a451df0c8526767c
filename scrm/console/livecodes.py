"""渠道活码 pages: list, create / edit / delete, QR and poster downloads, decisions, and what each code is
worth. Admins manage every code; store managers the codes of their store."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from scrm.console.charts import bar_chart
from scrm.console.forms import add_service_errors
from scrm.console.permissions import MANAGER_ROLES, console_required
from scrm.customers.models import Tag
from scrm.livecodes import selectors, services
from scrm.livecodes.models import MAX_ATTACHMENTS, ChannelGroup, LiveCode, LiveCodeDayCount, SpreadMode, StoreWelcome
from scrm.livecodes.poster import livecode_poster_png
from scrm.materials.models import Material
from scrm.org.models import Staff, Store

DECISIONS_SHOWN = 20


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        return f"{obj.name}（{obj.store.name}）" if obj.store else obj.name


class OneStaffField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        return f"{obj.name}（{obj.store.name}）" if obj.store else obj.name


class TagChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Tag) -> str:
        return f"{obj.group.name} / {obj.name}"


class MaterialChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Material) -> str:
        return f"[{obj.get_kind_display()}] {obj.title}"


_CHOICE_ERRORS = {
    "invalid_choice": gettext_lazy("选项无效，请重新选择。"),
    "invalid_pk_value": gettext_lazy("选项无效，请重新选择。"),
    "invalid_list": gettext_lazy("选项无效，请重新选择。"),
}


class LiveCodeForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("名称"),
        max_length=50,
        error_messages={"required": gettext_lazy("请填写名称。"), "max_length": gettext_lazy("名称最多 50 个字。")},
    )
    channel_group = forms.ChoiceField(
        label=gettext_lazy("渠道分组"), choices=ChannelGroup.choices, error_messages=_CHOICE_ERRORS
    )
    store = forms.ModelChoiceField(
        label=gettext_lazy("门店"), queryset=Store.objects.none(), required=False, error_messages=_CHOICE_ERRORS
    )
    spread_mode = forms.ChoiceField(
        label=gettext_lazy("分配方式"),
        choices=SpreadMode.choices,
        initial=SpreadMode.SINGLE,
        error_messages=_CHOICE_ERRORS,
        help_text=gettext_lazy(
            "轮流分配：多位导购轮流接待；今日新增最少优先：只给今天加人最少的导购；按门店：门店全部在职导购。"
        ),
    )
    guides = StaffChoiceField(
        label=gettext_lazy("接待导购"),
        queryset=Staff.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=_CHOICE_ERRORS,
    )
    daily_cap = forms.IntegerField(
        label=gettext_lazy("每人每日上限"),
        required=False,
        min_value=1,
        max_value=10000,
        help_text=gettext_lazy("留空表示不限；达到上限的导购当天不再接待，由备用导购接替。"),
        error_messages={
            "invalid": gettext_lazy("请输入整数。"),
            "min_value": gettext_lazy("上限至少为 1。"),
            "max_value": gettext_lazy("上限最多 10000。"),
        },
    )
    backups = StaffChoiceField(
        label=gettext_lazy("备用导购"),
        queryset=Staff.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=_CHOICE_ERRORS,
    )
    work_start = forms.TimeField(
        label=gettext_lazy("接待开始"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": gettext_lazy("请输入时间，如 09:30。")},
    )
    work_end = forms.TimeField(
        label=gettext_lazy("接待结束"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": gettext_lazy("请输入时间，如 21:00。")},
    )
    off_hours_guide = OneStaffField(
        label=gettext_lazy("非工作时间导购"),
        queryset=Staff.objects.none(),
        required=False,
        empty_label="—",
        error_messages=_CHOICE_ERRORS,
    )
    skip_verify = forms.BooleanField(label=gettext_lazy("自动通过好友申请"), required=False, initial=True)
    tags = TagChoiceField(
        label=gettext_lazy("添加后打标签"),
        queryset=Tag.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=_CHOICE_ERRORS,
    )
    welcome_text = forms.CharField(
        label=gettext_lazy("欢迎语"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("可用 {客户称呼} {客户昵称} {导购姓名} {门店} {门店地址}；不填时使用门店默认欢迎语。"),
        error_messages={"max_length": gettext_lazy("欢迎语最多 4000 个字。")},
    )
    attachments = MaterialChoiceField(
        label=gettext_lazy("欢迎语附件"),
        queryset=Material.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=gettext_lazy("最多 9 个：图片、链接、小程序、视频或文件（素材库中已发布的素材）。"),
        error_messages=_CHOICE_ERRORS,
    )
    state = forms.CharField(
        label=gettext_lazy("渠道标识 state"),
        required=False,
        max_length=30,
        help_text=gettext_lazy("选填，最多 30 个字符（字母、数字、_ -）；不填自动生成。"),
        error_messages={"max_length": gettext_lazy("渠道标识最多 30 个字符。")},
    )

    def __init__(self, *args, viewer: Staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.viewer = viewer
        guides = Staff.objects.filter(is_active=True, role=Staff.Role.GUIDE).select_related("store")
        stores = Store.objects.order_by("code")
        if viewer.role == Staff.Role.MANAGER:
            guides = guides.filter(store_id=viewer.store_id)
            stores = stores.filter(pk=viewer.store_id)
            self.fields["store"].required = True
            self.fields["store"].empty_label = None
        guides = guides.order_by("store__code", "userid")
        for name in ("guides", "backups", "off_hours_guide"):
            self.fields[name].queryset = guides
        self.fields["store"].queryset = stores
        self.fields["tags"].queryset = Tag.objects.filter(deleted=False).select_related("group").order_by("group", "id")
        self.fields["attachments"].queryset = Material.objects.filter(
            status=Material.Status.PUBLISHED, kind__in=services.ATTACHMENT_KINDS
        ).order_by("-updated_at")

    def clean_attachments(self):
        chosen = self.cleaned_data["attachments"]
        if len(chosen) > MAX_ATTACHMENTS:
            raise ValidationError(_("欢迎语附件最多 9 个。"))
        return chosen

    def clean_state(self):
        return self.cleaned_data["state"].strip()

    def code_input(self) -> services.CodeInput:
        d = self.cleaned_data
        return services.CodeInput(
            name=d["name"].strip(),
            channel_group=d["channel_group"],
            store=d["store"],
            spread_mode=d["spread_mode"],
            guides=list(d["guides"]),
            backups=list(d["backups"]),
            daily_cap=d["daily_cap"],
            work_start=d["work_start"],
            work_end=d["work_end"],
            off_hours_guide=d["off_hours_guide"],
            skip_verify=d["skip_verify"],
            tags=list(d["tags"]),
            welcome_text=d["welcome_text"],
            attachments=list(d["attachments"]),
            state=d["state"],
        )


def _initial(code: LiveCode) -> dict:
    members = list(code.members.all())
    return {
        "name": code.name,
        "channel_group": code.channel_group,
        "store": code.store_id,
        "spread_mode": code.spread_mode,
        "guides": [m.staff_id for m in members if not m.backup],
        "backups": [m.staff_id for m in members if m.backup],
        "daily_cap": code.daily_cap,
        "work_start": code.work_start,
        "work_end": code.work_end,
        "off_hours_guide": code.off_hours_guide_id,
        "skip_verify": code.skip_verify,
        "tags": list(code.tags.values_list("pk", flat=True)),
        "welcome_text": code.welcome_text,
        "attachments": [a.material_id for a in code.attachments.all()],
        "state": code.state,
    }


def _adds_chart(rows: list, start: dt.date, end: dt.date):
    """Adds per day over [start, end], summed over the rows (days without adds count as 0)."""
    per_day: dict[dt.date, int] = {}
    for row in rows:
        for day, n in row.per_day.items():
            per_day[day] = per_day.get(day, 0) + n
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return bar_chart([(f"{d.month}/{d.day}", per_day.get(d, 0)) for d in days])


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
    form = LiveCodeForm(request.POST or None, viewer=request.staff, initial=_initial(code))
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
        "adds_chart": _adds_chart(worth, start, end) if worth else None,
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

BY_CHOICES = [
    ("code", gettext_lazy("按活码")),
    ("guide", gettext_lazy("按导购")),
    ("channel", gettext_lazy("按渠道分组")),
]


class WorthForm(forms.Form):
    by = forms.ChoiceField(choices=BY_CHOICES, required=False, error_messages=_CHOICE_ERRORS)
    start = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("请输入日期，如 2026-11-01。")},
    )
    end = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("请输入日期，如 2026-11-30。")},
    )
    group = forms.ChoiceField(
        choices=[("", gettext_lazy("全部渠道")), *ChannelGroup.choices], required=False, error_messages=_CHOICE_ERRORS
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError(_("开始日期不能晚于结束日期。"))
        if start and end and (end - start).days > 366:
            raise ValidationError(_("统计区间最长一年。"))
        return data


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
        "adds_chart": _adds_chart(rows, start, end) if rows else None,
    }
    return render(request, "console/livecodes_report.html", context, status=status)


# --- store default welcome --------------------------------------------------------------------


class StoreWelcomeForm(forms.Form):
    store = forms.ModelChoiceField(
        label=gettext_lazy("门店"), queryset=Store.objects.none(), empty_label=None, error_messages=_CHOICE_ERRORS
    )
    text = forms.CharField(
        label=gettext_lazy("默认欢迎语"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("没有单独设置欢迎语的活码使用它；清空即不发送。"),
        error_messages={"max_length": gettext_lazy("欢迎语最多 4000 个字。")},
    )

    def __init__(self, *args, viewer: Staff, **kwargs):
        super().__init__(*args, **kwargs)
        stores = Store.objects.order_by("code")
        if viewer.role == Staff.Role.MANAGER:
            stores = stores.filter(pk=viewer.store_id)
        self.fields["store"].queryset = stores


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
