"""Placeholders in scripts ({客户称呼}, {导购姓名}, …): which exist, what each stands for when a guide writes
to a customer, and the filled text. Pure reads: the sidebar, welcome messages and task cards use them."""

import re

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scrm.customers.models import Customer
from scrm.customers.selectors import staff_remark
from scrm.materials.models import Material
from scrm.org.models import Staff

# The placeholders a script may hold, filled per customer at send time. Unknown ones stay visible
# so the guide notices them before sending.
PLACEHOLDERS: dict[str, str] = {
    "客户称呼": gettext_lazy("导购给客户的备注名，没有时用客户昵称，都没有时为“您”"),
    "客户昵称": gettext_lazy("客户的微信昵称"),
    "导购姓名": gettext_lazy("发送素材的导购姓名"),
    "门店": gettext_lazy("导购所在门店（导购无门店时用客户归属门店）"),
    "门店地址": gettext_lazy("上述门店的地址"),
    "今天": gettext_lazy("发送当天的日期，如 11月28日"),
}
_PLACEHOLDER = re.compile(r"\{([^{}\s]{1,20})\}")


def material_render_text(
    *, material: Material, customer: Customer, staff: Staff | None, values: dict[str, str] | None = None
) -> str:
    """The script of `material` with placeholders filled for `customer`, as `staff` would send it.

    Placeholders (see PLACEHOLDERS): {客户称呼} {客户昵称} {导购姓名} {门店} {门店地址} {今天}.
    A value that is unknown for this customer falls back to something polite, never to an empty hole;
    an unknown placeholder name is left as written. Pass `values` (placeholder_values) to fill many
    materials for one customer without a query each.
    """
    if values is None:
        values = placeholder_values(customer=customer, staff=staff)

    def fill(match: re.Match) -> str:
        value = values.get(match.group(1))
        return match.group(0) if value is None else value

    return _PLACEHOLDER.sub(fill, material.content)


def placeholder_values(*, customer: Customer, staff: Staff | None) -> dict[str, str]:
    """What each placeholder stands for when `staff` writes to `customer` (one query)."""
    remark = ""
    if staff is not None:
        known = getattr(customer, "remarks", {})  # read with the customer by customer_get_for_staff
        if staff.pk in known:
            remark = known[staff.pk]
        else:
            rows = list(staff_remark(staff=staff, customer=customer))
            remark = rows[0]["remark"] if rows else ""
    # A remark often carries the guide's private note after a separator ("王女士-干皮", "李姐（VIP）"):
    # only the name before the first separator may reach the customer.
    salutation = re.split(r"[-－—_/|(（\[【\s]", (remark or "").strip(), maxsplit=1)[0].strip()
    if staff is not None and staff.store_id and staff.store_id != customer.store_id:
        store = staff.store
    else:
        # Usually the guide's store is the customer's, often loaded with the customer: no query.
        store = customer.store
    today = timezone.localdate()
    values = {
        "客户称呼": salutation or customer.name or _("您"),
        "客户昵称": customer.name or _("您"),
        "导购姓名": staff.name if staff is not None else "",
        "门店": store.name if store else "",
        "门店地址": store.address if store else "",
        "今天": _("%(month)d月%(day)d日") % {"month": today.month, "day": today.day},
    }
    return values


def material_unknown_placeholders(*, content: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER.findall(content) if name not in PLACEHOLDERS})
