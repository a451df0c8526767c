"""How a customer's attributes read in the sidebar: the templates name no stored codes."""

from django import template
from django.utils.html import format_html

from scrm.customers.models import Gender

register = template.Library()

GENDER_SIGNS = {Gender.MALE: ("m", "♂"), Gender.FEMALE: ("f", "♀")}


@register.simple_tag
def gender_mark(gender: int) -> str:
    """♂ or ♀ after a customer's name (titled 男 / 女); nothing when WeCom does not know."""
    if gender not in GENDER_SIGNS:
        return ""
    css, sign = GENDER_SIGNS[gender]
    return format_html(' <span class="sex {}" title="{}">{}</span>', css, Gender(gender).label, sign)
