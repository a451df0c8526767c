"""渠道活码 forms: a code (guides, hours, caps, welcome), the worth report's filter, a store's default welcome."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scrm.customers.models import Tag
from scrm.livecodes import services
from scrm.livecodes.models import MAX_ATTACHMENTS, ChannelGroup, LiveCode, SpreadMode
from scrm.materials.models import Material
from scrm.org.models import Staff, Store


def _staff_label(obj: Staff) -> str:
    return f"{obj.name}（{obj.store.name}）" if obj.store else obj.name


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        return _staff_label(obj)


class OneStaffField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        return _staff_label(obj)


class TagChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Tag) -> str:
        return f"{obj.group.name} / {obj.name}"


class MaterialChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Material) -> str:
        return f"[{obj.get_kind_display()}] {obj.title}"


CHOICE_ERRORS = {
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
        label=gettext_lazy("渠道分组"), choices=ChannelGroup.choices, error_messages=CHOICE_ERRORS
    )
    store = forms.ModelChoiceField(
        label=gettext_lazy("门店"), queryset=Store.objects.none(), required=False, error_messages=CHOICE_ERRORS
    )
    spread_mode = forms.ChoiceField(
        label=gettext_lazy("分配方式"),
        choices=SpreadMode.choices,
        initial=SpreadMode.SINGLE,
        error_messages=CHOICE_ERRORS,
        help_text=gettext_lazy(
            "轮流分配：多位导购轮流接待；今日新增最少优先：只给今天加人最少的导购；按门店：门店全部在职导购。"
        ),
    )
    guides = StaffChoiceField(
        label=gettext_lazy("接待导购"),
        queryset=Staff.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=CHOICE_ERRORS,
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
        error_messages=CHOICE_ERRORS,
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
        error_messages=CHOICE_ERRORS,
    )
    skip_verify = forms.BooleanField(label=gettext_lazy("自动通过好友申请"), required=False, initial=True)
    tags = TagChoiceField(
        label=gettext_lazy("添加后打标签"),
        queryset=Tag.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=CHOICE_ERRORS,
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
        error_messages=CHOICE_ERRORS,
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


def livecode_initial(code: LiveCode) -> dict:
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


BY_CHOICES = [
    ("code", gettext_lazy("按活码")),
    ("guide", gettext_lazy("按导购")),
    ("channel", gettext_lazy("按渠道分组")),
]


class WorthForm(forms.Form):
    by = forms.ChoiceField(choices=BY_CHOICES, required=False, error_messages=CHOICE_ERRORS)
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
        choices=[("", gettext_lazy("全部渠道")), *ChannelGroup.choices], required=False, error_messages=CHOICE_ERRORS
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError(_("开始日期不能晚于结束日期。"))
        if start and end and (end - start).days > 366:
            raise ValidationError(_("统计区间最长一年。"))
        return data


class StoreWelcomeForm(forms.Form):
    store = forms.ModelChoiceField(
        label=gettext_lazy("门店"), queryset=Store.objects.none(), empty_label=None, error_messages=CHOICE_ERRORS
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
