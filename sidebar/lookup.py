"""What every customer screen of the sidebar starts with: the customer behind the chat, or one 404.

Shared by the portrait/timeline views and the material tab (one module both import, #10)."""

from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy

from scrm.customers import selectors
from scrm.customers.models import Customer

# Same answer for unknown and not-yours (and handed over), so ids cannot be probed.
NOT_YOURS = gettext_lazy("客户不存在、已转接给其他导购，或你无权查看")


def customer_or_404(request: HttpRequest, external_userid: str) -> Customer:
    customer = selectors.customer_get_for_staff(staff=request.staff, external_userid=external_userid)
    if customer is None:
        raise Http404(NOT_YOURS)
    return customer


def swaps_main(request: HttpRequest) -> bool:
    """An htmx load of the whole screen into the shell's #main (tabs, shell) gets the screen only."""
    return bool(request.htmx) and request.htmx.target in (None, "main")
