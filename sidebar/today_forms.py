from django import forms
from django.utils.translation import gettext_lazy as _

from scrm.today.models import ReminderItem
from scrm.today.services import SNOOZE_DAYS


class SnoozeForm(forms.Form):
    until = forms.ChoiceField(
        choices=[(key, key) for key in SNOOZE_DAYS],
        error_messages={"required": _("请选择推迟到明天或下周。"), "invalid_choice": _("请选择推迟到明天或下周。")},
    )


class DismissForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("忽略原因"),
        choices=ReminderItem.DismissReason.choices,
        error_messages={"required": _("请选择忽略原因。"), "invalid_choice": _("请选择忽略原因。")},
    )
    note = forms.CharField(
        label=_("备注"), required=False, max_length=200, error_messages={"max_length": _("备注最多 200 字。")}
    )

    def clean(self):
        data = super().clean()
        if data.get("reason") == ReminderItem.DismissReason.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", _("选择“其他”时请写明原因。"))
        return data
