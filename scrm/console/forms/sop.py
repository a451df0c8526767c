"""The console's new 自动化任务 (SOP rule) form, in Chinese."""

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from scrm.materials.selectors import material_list
from scrm.org.models import Staff
from scrm.segments.selectors import segments_visible
from scrm.today.models import SopRule
from scrm.today.sop_services import SopDraft

CHOICE = {"invalid_choice": _("选项无效，请重新选择。")}


class SopRuleForm(forms.Form):
    name = forms.CharField(label=_("规则名称"), max_length=40, error_messages={"required": _("请填写规则名称。")})
    trigger = forms.ChoiceField(
        label=_("触发时机"),
        choices=SopRule.Trigger.choices,
        error_messages={**CHOICE, "required": _("请选择触发时机。")},
    )
    days = forms.CharField(
        label=_("第几天（N）"), max_length=40, initial="0,1,3,7",
        help_text=_("用逗号分隔，如新客跟进 0,1,3,7；复购前 3；生日当天 0。"),
        error_messages={"required": _("请填写天数。")},
    )  # fmt: skip
    segment = forms.ModelChoiceField(
        label=_("客户分群"), queryset=None, required=False, empty_label=_("全部客户"), error_messages=CHOICE
    )
    material = forms.ModelChoiceField(
        label=_("发送素材"), queryset=None, error_messages={**CHOICE, "required": _("请选择要发送的素材。")}
    )
    window_days = forms.IntegerField(
        label=_("提醒保留天数"), min_value=1, max_value=30, initial=3,
        error_messages={"invalid": _("请填写天数。"), "min_value": _("至少 1 天。"), "max_value": _("最多 30 天。")},
    )  # fmt: skip
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, viewer: Staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = segments_visible(viewer=viewer)
        self.fields["material"].queryset = material_list(sendable_only=True)
        if not self.is_bound:
            self.initial.setdefault("request_key", uuid.uuid4().hex)

    def clean_days(self) -> list[int]:
        parts = [p.strip() for p in self.cleaned_data["days"].replace("，", ",").split(",") if p.strip()]
        if not parts or not all(p.isdigit() for p in parts):
            raise ValidationError(_("天数请填写数字，用逗号分隔，如 0,1,3,7。"))
        return [int(p) for p in parts]

    def draft(self) -> SopDraft:
        d = self.cleaned_data
        return SopDraft(
            name=d["name"], trigger=d["trigger"], days=d["days"], material=d["material"], segment=d.get("segment"),
            window_days=d["window_days"], request_key=d.get("request_key") or None,
        )  # fmt: skip
