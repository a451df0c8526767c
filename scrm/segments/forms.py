"""The console's customer filter: Chinese labels and errors, and the spec it stands for (filters.py)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from scrm.customers.events import EventKind
from scrm.customers.models import IdentityKind, LifecycleStage, Tag
from scrm.org.models import Staff, Store
from scrm.segments.filters import WECOM_FRIEND
from scrm.segments.selectors import viewer_store_id

CHANNELS = [(WECOM_FRIEND, _("企业微信好友（当前）")), *IdentityKind.choices]
YES_NO = [("", _("不限")), ("1", _("是")), ("0", _("否"))]
MONTHS = [("", _("不限"))] + [(str(m), _("%(m)s 月") % {"m": m}) for m in range(1, 13)]
MAX_HOURS = 24 * 365
DAY = {"invalid": _("请填写有效日期，例如 2026-01-31。")}


class DayInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


BAD_CHOICE = {"invalid_choice": _("选项无效，请重新选择。"), "invalid_pk_value": _("选项无效，请重新选择。")}
NUMBER = {"invalid": _("请填写数字。"), "min_value": _("不能小于 %(limit_value)s。")}


class TagChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Tag) -> str:
        return f"{obj.group.name} / {obj.name}"


class SegmentFilterForm(forms.Form):
    stages = forms.MultipleChoiceField(
        label=_("生命周期"),
        choices=LifecycleStage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=BAD_CHOICE,
    )
    churn_risk = forms.ChoiceField(label=_("流失风险"), choices=YES_NO, required=False, error_messages=BAD_CHOICE)
    tags_any = TagChoiceField(
        label=_("含任一标签"), queryset=Tag.objects.none(), required=False, error_messages=BAD_CHOICE
    )
    tags_all = TagChoiceField(
        label=_("含全部标签"), queryset=Tag.objects.none(), required=False, error_messages=BAD_CHOICE
    )
    store = forms.ModelChoiceField(
        label=_("归属门店"),
        queryset=Store.objects.none(),
        required=False,
        empty_label=_("不限"),
        error_messages=BAD_CHOICE,
    )
    guide = forms.ModelChoiceField(
        label=_("服务导购"),
        queryset=Staff.objects.none(),
        required=False,
        empty_label=_("不限"),
        error_messages=BAD_CHOICE,
    )
    state = forms.CharField(label=_("渠道活码 state"), max_length=64, required=False)
    first_order_from = forms.DateField(label=_("首次购买 从"), required=False, widget=DayInput(), error_messages=DAY)
    first_order_to = forms.DateField(label=_("首次购买 到"), required=False, widget=DayInput(), error_messages=DAY)
    last_order_from = forms.DateField(label=_("最近购买 从"), required=False, widget=DayInput(), error_messages=DAY)
    last_order_to = forms.DateField(label=_("最近购买 到"), required=False, widget=DayInput(), error_messages=DAY)
    spend_min = forms.DecimalField(
        label=_("累计消费 ≥"), min_value=0, max_digits=14, decimal_places=2, required=False, error_messages=NUMBER
    )
    spend_max = forms.DecimalField(
        label=_("累计消费 ≤"), min_value=0, max_digits=14, decimal_places=2, required=False, error_messages=NUMBER
    )
    orders_min = forms.IntegerField(
        label=_("订单数 ≥"), min_value=0, max_value=100000, required=False, error_messages=NUMBER
    )
    orders_max = forms.IntegerField(
        label=_("订单数 ≤"), min_value=0, max_value=100000, required=False, error_messages=NUMBER
    )
    overdue_repurchase = forms.BooleanField(label=_("复购已逾期"), required=False)
    birthday_month = forms.ChoiceField(label=_("生日月份"), choices=MONTHS, required=False, error_messages=BAD_CHOICE)
    channels_has = forms.MultipleChoiceField(
        label=_("有渠道"),
        choices=CHANNELS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=BAD_CHOICE,
    )
    channels_lacks = forms.MultipleChoiceField(
        label=_("没有渠道"),
        choices=CHANNELS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=BAD_CHOICE,
    )
    event_kind = forms.ChoiceField(
        label=_("行为"), choices=[("", _("不限")), *EventKind.choices], required=False, error_messages=BAD_CHOICE
    )
    event_hours = forms.IntegerField(
        label=_("最近（小时）"), min_value=1, max_value=MAX_HOURS, required=False, error_messages=NUMBER
    )
    no_order_since = forms.BooleanField(label=_("之后未下单"), required=False)

    def __init__(self, *args, viewer: Staff, **kwargs):
        super().__init__(*args, **kwargs)
        tags = Tag.objects.filter(deleted=False, group__deleted=False).select_related("group")
        self.fields["tags_any"].queryset = tags
        self.fields["tags_all"].queryset = tags
        store_id = viewer_store_id(viewer)
        guides = Staff.objects.filter(role__in=(Staff.Role.GUIDE, Staff.Role.MANAGER), is_active=True)
        stores = Store.objects.all()
        if store_id is not None:
            guides, stores = guides.filter(store_id=store_id), stores.filter(pk=store_id)
        self.fields["guide"].queryset = guides.order_by("store__code", "name")
        self.fields["store"].queryset = stores

    def clean(self):
        data = super().clean()
        pairs = (
            ("spend_min", "spend_max", _("累计消费的下限不能大于上限。")),
            ("orders_min", "orders_max", _("订单数的下限不能大于上限。")),
            ("first_order_from", "first_order_to", _("首次购买的开始日期不能晚于结束日期。")),
            ("last_order_from", "last_order_to", _("最近购买的开始日期不能晚于结束日期。")),
        )
        for low, high, message in pairs:
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, message)
        if data.get("event_kind") and not data.get("event_hours"):
            self.add_error("event_hours", _("请填写最近多少小时内。"))
        if data.get("event_hours") and not data.get("event_kind"):
            self.add_error("event_kind", _("请选择行为。"))
        return data

    def spec(self) -> dict:
        """The filter as a JSON-safe spec (only the keys that narrow anything)."""
        d = self.cleaned_data
        spec: dict = {}
        for keys, encode in _ENCODERS:
            for key in keys:
                value = encode(d.get(key))
                if value is not None:
                    spec[key] = value
        if d.get("churn_risk") in ("0", "1"):
            spec["churn_risk"] = d["churn_risk"] == "1"
        if d.get("event_kind"):
            spec["events"] = [
                {"kind": d["event_kind"], "hours": d["event_hours"], "no_order_since": bool(d.get("no_order_since"))}
            ]
        return spec


def _given(encode):
    """An encoder that leaves out empty values (they narrow nothing)."""
    return lambda value: encode(value) if value else None


def _number(encode):
    """Like _given, but 0 is a bound too."""
    return lambda value: encode(value) if value is not None else None


# Form field → spec value, per group of fields; None leaves the key out.
_ENCODERS = (
    (("stages", "channels_has", "channels_lacks"), _given(list)),
    (("tags_any", "tags_all"), _given(lambda tags: sorted(tag.pk for tag in tags))),
    (("store", "guide"), _given(lambda row: row.pk)),
    (("state",), _given(str.strip)),
    (("first_order_from", "first_order_to", "last_order_from", "last_order_to"), _given(lambda day: day.isoformat())),
    (("spend_min", "spend_max"), _number(str)),
    (("orders_min", "orders_max"), _number(int)),
    (("overdue_repurchase",), _given(lambda _on: True)),
    (("birthday_month",), _given(int)),
)


def spec_to_data(spec: dict) -> dict:
    """A saved spec back as the form's GET parameters (to open a segment in the customer list)."""
    data: dict = {}
    for key, value in spec.items():
        if key == "events":
            if value:
                data.update(
                    event_kind=value[0]["kind"],
                    event_hours=value[0]["hours"],
                    no_order_since="on" if value[0].get("no_order_since") else "",
                )
        elif key == "churn_risk":
            data[key] = "1" if value else "0"
        elif key == "overdue_repurchase":
            data[key] = "on" if value else ""
        else:
            data[key] = value
    return data
