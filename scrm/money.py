"""Money as people read it, the same in the sidebar, the console and its charts: ¥12,846.00.

Also the `money` template library (settings.TEMPLATES libraries): `{% load money %}{{ order.amount|yuan }}`.
"""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"¥{Decimal(value):,.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
