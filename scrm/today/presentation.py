"""The reason of a reminder in words, for the workbench, the portrait banner and the pushes."""

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from scrm.today.models import ReminderItem, ReminderKind


def _when(days: int, *, ahead: str, today: str, behind: str) -> str:
    if days > 0:
        return ahead % {"n": days}
    if days == 0:
        return today
    return behind % {"n": -days}


def _intent(item: ReminderItem) -> str:
    c = item.context
    parts = []
    if c.get("carts") and Decimal(c.get("cart_value") or 0) > 0:
        parts.append(_("加购 %(n)s 次（¥%(v)s）") % {"n": c["carts"], "v": c["cart_value"]})
    elif c.get("carts"):
        parts.append(_("加购 %(n)s 次") % {"n": c["carts"]})
    if c.get("views"):
        parts.append(_("浏览商品 %(n)s 次") % {"n": c["views"]})
    if c.get("visits"):
        parts.append(_("访问小程序 %(n)s 次") % {"n": c["visits"]})
    text = _("近期%(what)s，还没下单") % {"what": "、".join(parts)}
    if c.get("product"):
        text += _("（%(p)s）") % {"p": c["product"]}
    return text


SOP_WHY = {
    "friend_added": _lazy("添加好友第 %(n)s 天"),
    "repurchase": _lazy("预计复购日前 %(n)s 天"),
    "birthday": _lazy("生日前 %(n)s 天"),
    "dormant": _lazy("进入沉睡第 %(n)s 天"),
    "order_paid": _lazy("下单后第 %(n)s 天"),
}


def _sop(item: ReminderItem) -> str:
    """自动化任务: the rule's name and why this customer, today."""
    c = item.context
    why = SOP_WHY.get(c.get("trigger", ""))
    if c.get("trigger") == "birthday" and not c.get("n"):
        why = _lazy("今天生日")
    text = str(why) % {"n": c.get("n", 0)} if why else ""
    return _("自动化任务「%(rule)s」：%(why)s") % {"rule": c.get("rule", ""), "why": text}


def reminder_reason(item: ReminderItem, today: dt.date) -> str:
    days = (item.due_on - today).days
    c, name = item.context, str(item.customer)
    match item.kind:
        case ReminderKind.FOLLOW_UP:
            when = _when(days, ahead="", today=_("约定今天联系"), behind=_("跟进已逾期 %(n)s 天"))
            return _("%(when)s：「%(note)s」") % {"when": when, "note": c.get("note", "")}
        case ReminderKind.REPURCHASE:
            return _when(
                days,
                ahead=_("预计 %(n)s 天后到复购期"),
                today=_("今天到复购期"),
                behind=_("复购期已过 %(n)s 天"),
            ) + (_("（回购周期约 %(c)s 天）") % {"c": c["cycle"]} if c.get("cycle") else "")
        case ReminderKind.REPLENISH:
            when = _when(days, ahead=_("约 %(n)s 天后用完"), today=_("今天用完"), behind=_("已用完 %(n)s 天"))
            return _("%(name)s的%(product)s %(when)s") % {"name": name, "product": c.get("product", ""), "when": when}
        case ReminderKind.CHURN:
            return _("超过回购周期没有再买，新近有流失风险（最近购买 %(d)s）") % {"d": c.get("last_order_on", "")}
        case ReminderKind.BIRTHDAY:
            return _when(days, ahead=_("%(n)s 天后生日"), today=_("今天生日"), behind=_("生日已过 %(n)s 天"))
        case ReminderKind.DELETED:
            text = _("删除了你，仅供知悉")
            return (_("VIP 客户") + text) if c.get("vip") else text
        case ReminderKind.HANDOVER:
            return _("刚从 %(from)s 转接给你，先打个招呼吧") % {"from": c.get("from") or _("其他导购")}
        case ReminderKind.INTENT:
            return _intent(item)
        case ReminderKind.SOP:
            return _sop(item)
    return item.get_kind_display()
