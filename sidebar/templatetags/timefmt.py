"""Times as guides read them in WeCom."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def since(value: dt.datetime | None) -> str:
    """`{{ event.occurred_at|since }}` → 刚刚, 3 分钟前, 今天 09:12, 昨天 14:05, 11月3日 10:00."""
    return relative_time(value) if value else ""


def relative_time(value: dt.datetime, *, now: dt.datetime | None = None) -> str:
    """Chinese relative time as WeCom shows it: 刚刚, 3 分钟前, 今天 09:12, 昨天 14:05, 11月3日 10:00."""
    now = timezone.localtime(now or timezone.now())
    local = timezone.localtime(value)
    delta = now - local
    # A little clock skew between systems reads as "just now", not as the future.
    if abs(delta) < dt.timedelta(minutes=1):
        return _("刚刚")
    if dt.timedelta(0) < delta < dt.timedelta(hours=1):
        return _("%(n)d 分钟前") % {"n": delta.seconds // 60}
    hm = local.strftime("%H:%M")
    if local.date() == now.date():
        return _("今天 %(hm)s") % {"hm": hm}
    if local.date() == now.date() - dt.timedelta(days=1):
        return _("昨天 %(hm)s") % {"hm": hm}
    if local.year == now.year:
        return _("%(m)d月%(d)d日 %(hm)s") % {"m": local.month, "d": local.day, "hm": hm}
    return _("%(y)d年%(m)d月%(d)d日 %(hm)s") % {"y": local.year, "m": local.month, "d": local.day, "hm": hm}
