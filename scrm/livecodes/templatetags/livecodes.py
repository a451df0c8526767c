from django import template

from scrm.livecodes.selectors import state_source_label

register = template.Library()


@register.filter
def state_label(state: str) -> str:
    """A follow relation's 活码 state as people read it ('门店柜台 · 静安店收银台')."""
    return state_source_label(state)
