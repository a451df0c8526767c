"""A segment's filter in words, for its page and for the tasks made from it."""

from django.utils.translation import gettext as _

from scrm.customers.events import EventKind
from scrm.customers.models import IdentityKind, LifecycleStage, Tag
from scrm.org.models import Staff, Store
from scrm.segments.filters import WECOM_FRIEND


def _channel(value: str) -> str:
    if value == WECOM_FRIEND:
        return _("企业微信好友")
    return str(IdentityKind(value).label) if value in IdentityKind.values else value


def _band(spec: dict, low: str, high: str, label: str) -> str:
    lo, hi = spec.get(low), spec.get(high)
    if lo not in (None, "") and hi not in (None, ""):
        return _("%(l)s %(a)s–%(b)s") % {"l": label, "a": lo, "b": hi}
    if lo not in (None, ""):
        return _("%(l)s ≥ %(a)s") % {"l": label, "a": lo}
    if hi not in (None, ""):
        return _("%(l)s ≤ %(b)s") % {"l": label, "b": hi}
    return ""


def _event(condition: dict) -> str:
    kind = EventKind(condition["kind"]).label if condition.get("kind") in EventKind.values else condition.get("kind")
    hours = int(condition.get("hours") or 0)
    when = _("%(n)s 天内") % {"n": hours // 24} if hours % 24 == 0 else _("%(n)s 小时内") % {"n": hours}
    text = _("%(when)s有「%(kind)s」") % {"when": when, "kind": kind}
    return text + (_("且之后未下单") if condition.get("no_order_since") else "")


def spec_describe(spec: dict) -> list[str]:
    """One phrase per condition, in the filter form's order; an empty spec is every customer."""
    parts: list[str] = []
    if spec.get("stages"):
        parts.append(_("生命周期：%(v)s") % {"v": "、".join(str(LifecycleStage(s).label) for s in spec["stages"])})
    if spec.get("churn_risk") is not None:
        parts.append(_("有流失风险") if spec["churn_risk"] else _("无流失风险"))
    tag_names = dict(
        Tag.objects.filter(pk__in=[*spec.get("tags_any", []), *spec.get("tags_all", [])]).values_list("pk", "name")
    )
    if spec.get("tags_any"):
        parts.append(_("含任一标签：%(v)s") % {"v": "、".join(tag_names.get(t, "?") for t in spec["tags_any"])})
    if spec.get("tags_all"):
        parts.append(_("含全部标签：%(v)s") % {"v": "、".join(tag_names.get(t, "?") for t in spec["tags_all"])})
    if spec.get("store"):
        parts.append(
            _("归属门店：%(v)s")
            % {"v": Store.objects.filter(pk=spec["store"]).values_list("name", flat=True).first() or "?"}
        )
    if spec.get("guide"):
        parts.append(
            _("服务导购：%(v)s")
            % {"v": Staff.objects.filter(pk=spec["guide"]).values_list("name", flat=True).first() or "?"}
        )
    if spec.get("state"):
        parts.append(_("活码 state：%(v)s") % {"v": spec["state"]})
    for key, label in (("first_order", _("首次购买")), ("last_order", _("最近购买"))):
        lo, hi = spec.get(f"{key}_from"), spec.get(f"{key}_to")
        if lo or hi:
            parts.append(_("%(l)s %(a)s 至 %(b)s") % {"l": label, "a": lo or "…", "b": hi or "…"})
    parts += [
        p
        for p in (
            _band(spec, "spend_min", "spend_max", _("累计消费")),
            _band(spec, "orders_min", "orders_max", _("订单数")),
        )
        if p
    ]
    if spec.get("overdue_repurchase"):
        parts.append(_("复购已逾期"))
    if spec.get("birthday_month"):
        parts.append(_("%(m)s 月生日") % {"m": spec["birthday_month"]})
    if spec.get("channels_has"):
        parts.append(_("有：%(v)s") % {"v": "、".join(_channel(c) for c in spec["channels_has"])})
    if spec.get("channels_lacks"):
        parts.append(_("没有：%(v)s") % {"v": "、".join(_channel(c) for c in spec["channels_lacks"])})
    parts += [_event(c) for c in spec.get("events") or []]
    return parts or [_("全部客户")]
