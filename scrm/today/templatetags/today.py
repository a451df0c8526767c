"""Presentation of 今日 items in templates."""

from django import template
from django.utils import timezone

from scrm.today.models import ReminderItem, ReminderKind
from scrm.today.presentation import reminder_reason

register = template.Library()

# Names of the sidebar's inline SVG icons (sidebar/templatetags/icons.py): no colour emoji, which render
# as empty boxes where no emoji font is installed.
KIND_ICONS = {
    ReminderKind.FOLLOW_UP: "note",
    ReminderKind.REPURCHASE: "repeat",
    ReminderKind.REPLENISH: "drop",
    ReminderKind.CHURN: "alert",
    ReminderKind.BIRTHDAY: "gift",
    ReminderKind.DELETED: "user-x",
    ReminderKind.HANDOVER: "users",
    ReminderKind.INTENT: "flame",
    ReminderKind.SOP: "repeat",
}


@register.filter
def reason(item: ReminderItem) -> str:
    """The item's reason in words, as of today."""
    return reminder_reason(item, timezone.localdate())


@register.filter
def kind_icon(kind: str) -> str:
    """The icon name for `{% icon item.kind|kind_icon %}`."""
    return KIND_ICONS.get(kind, "note")
