from django import template
from django.urls import reverse

from scrm.analytics.figures import FIGURES_BY_KEY
from scrm.console.nav import nav_for

register = template.Library()


@register.inclusion_tag("console/_nav.html", takes_context=True)
def console_nav(context):
    request = context["request"]
    staff = getattr(request, "staff", None)
    items = nav_for(staff.role) if staff else []
    rest = request.path.removeprefix(reverse("console:home"))
    # The longest matching section wins, so "materials/categories" beats "materials".
    current = max((i.section for i in items if rest.startswith(i.section)), key=len, default=None)
    return {"items": [(item, reverse(item.url_name), item.section == current) for item in items]}


@register.filter
def figure_definition(key: str) -> str:
    """What a console figure counts, in one line (shown with the figure and as its tooltip)."""
    figure = FIGURES_BY_KEY.get(key)
    return str(figure.definition) if figure else ""
