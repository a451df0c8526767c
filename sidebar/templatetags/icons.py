"""Inline SVG icons. Colour emoji render as empty boxes where no emoji font is installed (Debian's
Chromium, some Android WebViews inside WeCom); an SVG path draws the same everywhere, in currentColor."""

import functools

from django import template
from django.utils.html import format_html

from scrm.customers.events import KIND_INFO, EventGroup

register = template.Library()

# 24×24 outline paths (stroke, no fill), in the spirit of Feather/Lucide.
PATHS = {
    "chat": "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z",
    "bag": "M6 7h12l1 14H5L6 7z M9 7a3 3 0 0 1 6 0",
    "eye": "M1 12s4-7 11-7 11 7 11 7-4 7-11 7S1 12 1 12z M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z",
    "tag": "M20.6 13.4 13.4 20.6a2 2 0 0 1-2.8 0L3 13V3h10l7.6 7.6a2 2 0 0 1 0 2.8z M7.5 7.5h.01",
    "note": "M12 20h9 M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z",
    "clip": "M21.4 11.1 12.2 20.3a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5",
    "user": "M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2 M12 3a4 4 0 1 0 0 8 4 4 0 0 0 0-8z",
    "alert": "M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z M12 9v4 M12 17h.01",
    "image": "M3 3h18v18H3z M8.5 10a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3z M21 15l-5-5L5 21",
    "video": "M23 7l-7 5 7 5V7z M1 5h15v14H1z",
    "file": "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z M14 2v6h6",
    "link": "M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7 M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7",
    "app": "M3 3h7v7H3z M14 3h7v7h-7z M14 14h7v7h-7z M3 14h7v7H3z",
    "text": "M4 6h16 M4 12h16 M4 18h10",
    "repeat": "M17 1l4 4-4 4 M3 11V9a4 4 0 0 1 4-4h14 M7 23l-4-4 4-4 M21 13v2a4 4 0 0 1-4 4H3",
    "drop": "M12 2.7l5.7 5.6a8 8 0 1 1-11.4 0z",
    "gift": "M20 12v10H4V12 M2 7h20v5H2z M12 22V7 M12 7H7.5a2.5 2.5 0 0 1 0-5C11 2 12 7 12 7z "
    "M12 7h4.5a2.5 2.5 0 0 0 0-5C13 2 12 7 12 7z",
    "user-x": "M16 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2 M8.5 3a4 4 0 1 0 0 8 4 4 0 0 0 0-8z M18 8l5 5 M23 8l-5 5",
    "users": "M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2 M9 3a4 4 0 1 0 0 8 4 4 0 0 0 0-8z M23 21v-2a4 4 0 0 0-3-3.9 "
    "M16 3.1a4 4 0 0 1 0 7.8",
    "flame": "M8.5 14.5A2.5 2.5 0 0 0 11 12c0-1.4-.5-2-1-3-1.1-2.1-.2-4 2-6 .5 2.5 2 4.9 4 6.5 2 1.6 3 3.5 3 5.5a7 7 "
    "0 1 1-14 0c0-1.2.4-2.3 1-3.3.3 1.6 1.3 2.8 2.5 2.8z",
    "check": "M20 6 9 17l-5-5",
}
GROUP_ICONS = {
    EventGroup.CHAT: "chat",
    EventGroup.ORDER: "bag",
    EventGroup.BROWSE: "eye",
    EventGroup.TAG: "tag",
    EventGroup.NOTE: "note",
    EventGroup.MATERIAL: "clip",
    EventGroup.RELATION: "user",
}
MATERIAL_ICONS = {
    "text": "text",
    "image": "image",
    "video": "video",
    "file": "file",
    "link": "link",
    "miniprogram": "app",
}


@register.simple_tag
@functools.lru_cache(maxsize=256)  # a few names × sizes; pages draw dozens (#17)
def icon(name: str, size: int = 16):
    path = PATHS.get(name, PATHS["note"])
    return format_html(
        '<svg class="svg-icon" width="{}" height="{}" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
        'stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">'
        '<path d="{}"/></svg>',
        size,
        size,
        path,
    )


@register.simple_tag
def event_icon(kind: str, size: int = 16):
    info = KIND_INFO.get(kind)
    return icon(GROUP_ICONS.get(info.group, "note") if info else "note", size)


@register.simple_tag
def material_icon(kind: str, size: int = 16):
    return icon(MATERIAL_ICONS.get(kind, "file"), size)
