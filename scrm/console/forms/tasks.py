"""The console's new-task form: audience, what to send, coupons, timing and targets, in Chinese."""

import datetime as dt
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scrm.console.forms.common import DateTimeLocalInput
from scrm.customers.models import LifecycleStage, Tag
from scrm.livecodes.services import ATTACHMENT_KINDS
from scrm.materials.selectors import material_list
from scrm.org.models import Staff, Store
from scrm.segments.forms import TagChoiceField
from scrm.segments.selectors import segments_visible, viewer_store_id
from scrm.taskcards.coupons import codes_parse
from scrm.taskcards.models import Task
from scrm.taskcards.services import TaskDraft

MAX_UPLOAD = 5 * 1024 * 1024
CHOICE = {"invalid_choice": _("选项无效，请重新选择。"), "invalid_pk_value": _("选项无效，请重新选择。")}


class GuideField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        return f"{obj.name}（{obj.store.name if obj.store else '—'}）"


class TaskForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("任务类型"),
        choices=Task.Kind.choices,
        initial=Task.Kind.CARD,
        required=False,
        widget=forms.RadioSelect,
        error_messages=CHOICE,
        help_text=_(
            "企业群发：每位导购在企业微信里确认一次，就发给自己名下的全部对象客户；文字不能含占位符，不能发券。"
        ),
    )
    name = forms.CharField(label=_("任务名称"), max_length=50, error_messages={"required": _("请填写任务名称。")})
    segment = forms.ModelChoiceField(
        label=_("客户分群"),
        queryset=None,
        required=False,
        empty_label=_("不用分群，按标签或生命周期"),
        error_messages=CHOICE,
    )
    stages = forms.MultipleChoiceField(
        label=_("生命周期"),
        choices=LifecycleStage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=CHOICE,
    )
    tags = TagChoiceField(label=_("含任一标签"), queryset=Tag.objects.none(), required=False, error_messages=CHOICE)
    material = forms.ModelChoiceField(
        label=_("发送素材"),
        queryset=None,
        required=False,
        empty_label=_("不用素材，发送下面的话术"),
        error_messages=CHOICE,
    )
    script = forms.CharField(
        label=_("话术"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("任务卡可用占位符：{客户称呼} {导购姓名} {门店} {今天} {券码}（企业群发不能用）"),
    )  # fmt: skip
    attachments = forms.ModelMultipleChoiceField(
        label=_("群发附件（企业群发，最多 9 个）"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=CHOICE,
    )
    coupon_mode = forms.ChoiceField(
        label=_("优惠券"),
        choices=Task.CouponMode.choices,
        initial=Task.CouponMode.NONE,
        widget=forms.RadioSelect,
        error_messages=CHOICE,
    )
    coupon_file = forms.FileField(label=_("券码文件（CSV，每行一个）"), required=False)
    starts_at = forms.DateTimeField(
        label=_("开始时间"),
        widget=DateTimeLocalInput(),
        error_messages={"required": _("请填写开始时间。"), "invalid": _("时间格式不正确。")},
    )
    deadline = forms.DateTimeField(
        label=_("截止时间"),
        widget=DateTimeLocalInput(),
        error_messages={"required": _("请填写截止时间。"), "invalid": _("时间格式不正确。")},
    )
    order_window_days = forms.IntegerField(
        label=_("发送后几天内下单算成交"), min_value=1, max_value=90, initial=7,
        error_messages={"invalid": _("请填写天数。"), "min_value": _("至少 1 天。"), "max_value": _("最多 90 天。")},
    )  # fmt: skip
    stores = forms.ModelMultipleChoiceField(
        label=_("下发门店"),
        queryset=Store.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=CHOICE,
    )
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    guides = GuideField(label=_("或指定导购"), queryset=Staff.objects.none(), required=False, error_messages=CHOICE)

    def __init__(self, *args, viewer: Staff, **kwargs):
        super().__init__(*args, **kwargs)
        store_id = viewer_store_id(viewer)
        self.fields["segment"].queryset = segments_visible(viewer=viewer)
        self.fields["tags"].queryset = Tag.objects.filter(deleted=False, group__deleted=False).select_related("group")
        self.fields["material"].queryset = material_list(sendable_only=True)
        self.fields["attachments"].queryset = material_list(sendable_only=True).filter(kind__in=ATTACHMENT_KINDS)
        stores = Store.objects.all()
        guides = Staff.objects.filter(is_active=True, role__in=(Staff.Role.GUIDE, Staff.Role.MANAGER)).select_related(
            "store"
        )
        if store_id is not None:
            stores, guides = stores.filter(pk=store_id), guides.filter(store_id=store_id)
        self.fields["stores"].queryset = stores
        self.fields["guides"].queryset = guides.order_by("store__code", "name")
        if not self.is_bound:
            self.initial.setdefault("request_key", uuid.uuid4().hex)
            now = timezone.localtime().replace(second=0, microsecond=0)
            self.initial.setdefault("starts_at", now)
            self.initial.setdefault("deadline", now + dt.timedelta(days=3))
            if store_id is not None:
                self.initial.setdefault("stores", list(stores))

    def clean_coupon_file(self):
        upload = self.cleaned_data.get("coupon_file")
        if upload is None:
            return []
        if upload.size > MAX_UPLOAD:
            raise ValidationError(_("券码文件不能超过 5 MB。"))
        codes = codes_parse(upload.read())
        if not codes:
            raise ValidationError(_("券码文件里没有券码。"))
        return codes

    def clean(self):
        data = super().clean()
        if not data.get("segment") and not data.get("stages") and not data.get("tags"):
            self.add_error("segment", _("请选择客户分群，或按生命周期、标签选择客户。"))
        return data

    def draft(self) -> TaskDraft:
        d = self.cleaned_data
        spec = {}
        if d.get("stages"):
            spec["stages"] = list(d["stages"])
        if d.get("tags"):
            spec["tags_any"] = sorted(t.pk for t in d["tags"])
        return TaskDraft(
            kind=d.get("kind") or Task.Kind.CARD,
            attachments=list(d.get("attachments") or []),
            name=d["name"],
            starts_at=d["starts_at"],
            deadline=d["deadline"],
            spec=spec,
            segment=d.get("segment"),
            material=d.get("material"),
            script=d.get("script") or "",
            coupon_mode=d["coupon_mode"],
            coupon_codes=d.get("coupon_file") or [],
            order_window_days=d["order_window_days"],
            stores=list(d.get("stores") or []),
            guides=list(d.get("guides") or []),
            request_key=d.get("request_key") or None,
        )
