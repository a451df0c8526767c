"""Reads for the console's 个人信息 page."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from scrm.customers.models import Customer
from scrm.privacy.models import AccessLog, Erasure

LOG_ROWS = 200


def access_log(*, customer_id: int | None = None, staff_userid: str = "") -> QuerySet[AccessLog]:
    logs = AccessLog.objects.select_related("staff")
    if customer_id:
        logs = logs.filter(customer_id=customer_id)
    if staff_userid:
        logs = logs.filter(staff__userid=staff_userid)
    return logs[:LOG_ROWS]


@dataclass(frozen=True)
class CustomerRequest:
    """What an admin sees before acting on a customer's request."""

    customer: Customer
    erasure: Erasure | None
    rows: dict[str, int]


def customer_for_request(*, customer_id: int) -> CustomerRequest | None:
    customer = Customer.objects.filter(pk=customer_id, merged_into__isnull=True).select_related("store").first()
    if customer is None:
        return None
    rows = {
        _("身份标识"): customer.identities.count(),
        _("企业微信好友"): customer.follow_relations.count(),
        _("轨迹事件"): customer.events.count(),
        _("订单"): customer.orders.count(),
        _("跟进记录"): customer.notes.count(),
    }
    return CustomerRequest(
        customer=customer, erasure=Erasure.objects.filter(customer_id=customer.pk).first(), rows=rows
    )


def erasures_recent() -> QuerySet[Erasure]:
    return Erasure.objects.all()[:20]
