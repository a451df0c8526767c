"""Timeline rows rendered in Python (#17): an `{% include %}` per row was half the timeline's CPU.

The markup is what the former templates/sidebar/_event.html rendered, row for row.
"""

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from scrm.customers.models import Event
from sidebar.templatetags.icons import event_icon
from sidebar.templatetags.timefmt import relative_time

register = template.Library()


def _row(e: Event, today_iso: str, now, channels: dict[str, str]) -> tuple:
    payload = e.payload if isinstance(e.payload, dict) else {}
    is_note = e.kind == "note"
    if is_note and payload.get("body"):
        title = format_html('<p class="title note-body">{}</p>', linebreaksbr(payload["body"], autoescape=True))
    else:
        title = format_html('<p class="title">{}</p>', e.title)
    next_contact = payload.get("next_contact_on") if is_note else None
    if next_contact:
        overdue = " overdue" if next_contact < today_iso else ""
        label = _("下次联系：%(day)s") % {"day": next_contact}
        next_contact = format_html('\n      <p class="meta next-contact{}">{}</p>', overdue, label)
    meta = relative_time(e.occurred_at, now=now) if e.occurred_at else ""
    staff = f" · {e.staff.name}" if e.staff_id and e.staff else ""
    return e.kind, e.pk, event_icon(e.kind), title, next_contact or "", meta, channels.get(e.channel, e.channel), staff


ROW = (
    '<li class="ev ev-{}" data-id="{}">\n  <span class="icon" aria-hidden="true">{}</span>\n  <div class="body">\n'
    '    {}{}\n    <p class="meta muted">{} · {}{}</p>\n  </div>\n</li>'
)


@register.simple_tag
def event_rows(events: list[Event], today_iso: str) -> SafeString:
    """Every row of a timeline page; `today_iso` (Y-m-d) marks a passed 下次联系 (ISO dates compare as text)."""
    now = timezone.now()
    # What get_channel_display() answers, translated once per page: it hashes every choice on each call.
    channels = {value: str(label) for value, label in Event._meta.get_field("channel").flatchoices}
    return format_html_join("", ROW, (_row(e, today_iso, now, channels) for e in events))


@register.simple_tag
def event_row(event: Event, today_iso: str) -> SafeString:
    """One row, e.g. a note just written (swapped in on top of the list)."""
    return event_rows([event], today_iso)
