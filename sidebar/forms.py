import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scrm.customers.events import EventGroup
from scrm.customers.models import Tag


class TagForm(forms.Form):
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.filter(deleted=False, group__deleted=False),
        error_messages={"required": _("请选择标签"), "invalid_choice": _("标签不存在或已删除")},
    )


# A next-contact date outside this window is a typo (1900-01-01), not a plan.
NEXT_CONTACT_PAST = dt.timedelta(days=365)
NEXT_CONTACT_AHEAD = dt.timedelta(days=2 * 365)


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("跟进内容"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("记录沟通要点、客户需求…")}),
        error_messages={"required": _("请填写跟进内容"), "max_length": _("跟进内容最多 %(limit_value)d 字")},
    )
    next_contact_on = forms.DateField(
        label=_("下次联系"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("请输入正确的日期")},
    )
    # Generated with the form, so a double submit records one note.
    request_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    group = forms.ChoiceField(widget=forms.HiddenInput, required=False, choices=[("", "")] + list(EventGroup.choices))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The phone's date picker offers only the dates the form accepts.
        today = timezone.localdate()
        self.fields["next_contact_on"].widget.attrs.update(
            min=(today - NEXT_CONTACT_PAST).isoformat(), max=(today + NEXT_CONTACT_AHEAD).isoformat()
        )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("请填写跟进内容"))
        return body

    def clean_next_contact_on(self) -> dt.date | None:
        day = self.cleaned_data["next_contact_on"]
        if day is None:
            return None
        today = timezone.localdate()
        if day < today - NEXT_CONTACT_PAST:
            raise forms.ValidationError(_("下次联系日期不能早于一年前"))
        if day > today + NEXT_CONTACT_AHEAD:
            raise forms.ValidationError(_("下次联系日期不能晚于两年后"))
        return day
