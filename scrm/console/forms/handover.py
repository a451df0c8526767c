"""The hand-over form: which of the old guide's customers (all, by tag, by stage) go to whom."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scrm.customers.models import LifecycleStage, Tag
from scrm.handover import selectors
from scrm.org.models import Staff


class TakeoverField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        store = f" · {obj.store.name}" if obj.store else ""
        return f"{obj.name}（{obj.get_role_display()}{store}）"


class HandoverForm(forms.Form):
    MODES = [("all", gettext_lazy("全部客户")), ("tag", gettext_lazy("按标签")), ("stage", gettext_lazy("按生命周期"))]

    mode = forms.ChoiceField(label=gettext_lazy("转接哪些客户"), choices=MODES, initial="all", widget=forms.RadioSelect)
    tag = forms.ModelChoiceField(
        label=gettext_lazy("标签"),
        queryset=Tag.objects.none(),
        required=False,
        empty_label="—",
        error_messages={"invalid_choice": gettext_lazy("请选择原导购客户身上的标签")},
    )
    stage = forms.ChoiceField(
        label=gettext_lazy("生命周期"),
        choices=[("", "—"), *LifecycleStage.choices],
        required=False,
        error_messages={"invalid_choice": gettext_lazy("请选择有效的生命周期")},
    )
    takeovers = TakeoverField(
        label=gettext_lazy("接替导购"),
        queryset=Staff.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("选择多位时，客户按顺序轮流平均分配。"),
        error_messages={
            "required": gettext_lazy("请选择接替导购"),
            "invalid_choice": gettext_lazy("接替导购须为可管理门店的在职导购，且不能是原导购"),
            "invalid_pk_value": gettext_lazy("接替导购须为可管理门店的在职导购，且不能是原导购"),
            "invalid_list": gettext_lazy("请选择接替导购"),
        },
    )
    transfer_success_msg = forms.CharField(
        label=gettext_lazy("转接提示语"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("在职转接时发给客户；客户 24 小时内可拒绝。不填则使用企业微信默认提示语。"),
        error_messages={"max_length": gettext_lazy("转接提示语最多 200 个字")},
    )
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, viewer: Staff, handover: Staff, counts: selectors.SelectionCounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.handover = handover
        self.counts = counts
        self.fields["takeovers"].queryset = selectors.takeover_choices(viewer=viewer, handover=handover)
        tag_field = self.fields["tag"]
        tag_field.queryset = selectors.tags_in_use(tag_ids=counts.by_tag)
        tag_field.label_from_instance = lambda t: f"{t.group.name} / {t.name}（{counts.by_tag.get(t.pk, 0)}）"
        self.fields["stage"].choices = [("", "—")] + [
            (value, f"{label}（{counts.by_stage.get(value, 0)}）") for value, label in LifecycleStage.choices
        ]
        self.fields["mode"].choices = [
            ("all", _("全部客户（%(n)s）") % {"n": counts.total}),
            ("tag", _("按标签")),
            ("stage", _("按生命周期")),
        ]
        if not handover.is_active:
            # 离职继承 sends no message to the customer.
            del self.fields["transfer_success_msg"]

    def clean(self):
        data = super().clean()
        mode = data.get("mode")
        if mode == "tag" and not data.get("tag") and "tag" not in self.errors:
            self.add_error("tag", _("请选择标签"))
        if mode == "stage" and not data.get("stage") and "stage" not in self.errors:
            self.add_error("stage", _("请选择生命周期"))
        if self.errors or not mode:
            return data
        relations = list(
            selectors.handover_select(
                handover=self.handover, mode=mode, tag=data.get("tag"), stage=data.get("stage") or ""
            )
        )
        if not relations:
            raise ValidationError(_("所选范围内没有可转接的客户"))
        data["relations"] = relations
        return data

    def selection(self) -> dict:
        data = self.cleaned_data
        mode = data["mode"]
        if mode == "tag":
            label = _("标签：%(tag)s") % {"tag": data["tag"].name}
        elif mode == "stage":
            label = _("生命周期：%(stage)s") % {"stage": LifecycleStage(data["stage"]).label}
        else:
            label = _("全部客户")
        return {"mode": mode, "label": label}
