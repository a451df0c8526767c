"""个人信息 (PIPL), for admins: who accessed whose data, and a customer's export and erasure on request."""

import json

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from scrm.console.permissions import ADMIN_ROLES, console_required
from scrm.customers.models import Customer
from scrm.privacy import selectors
from scrm.privacy.services import customer_data_export, customer_erase


class LogFilterForm(forms.Form):
    customer = forms.IntegerField(
        required=False,
        min_value=1,
        label=gettext_lazy("客户 id"),
        error_messages={"invalid": gettext_lazy("客户 id 是数字。")},
    )
    staff = forms.CharField(required=False, max_length=64, label=gettext_lazy("员工 userid"))


@console_required(roles=ADMIN_ROLES)
def privacy_home(request):
    form = LogFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    customer_id = filters.get("customer")
    context = {
        "form": form,
        "logs": selectors.access_log(customer_id=customer_id, staff_userid=filters.get("staff") or ""),
        "customer": selectors.customer_for_request(customer_id=customer_id) if customer_id else None,
        "erasures": selectors.erasures_recent(),
    }
    return render(request, "console/privacy.html", context)


@console_required(roles=ADMIN_ROLES)
def customer_export(request, customer_id: int):
    customer = get_object_or_404(Customer, pk=customer_id, merged_into__isnull=True)
    data = customer_data_export(customer=customer, staff=request.staff, request=request)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, default=str), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    return response


@require_POST
@console_required(roles=ADMIN_ROLES)
def customer_erase_view(request, customer_id: int):
    customer = get_object_or_404(Customer, pk=customer_id, merged_into__isnull=True)
    result = customer_erase(customer=customer, staff=request.staff, request=request)
    messages.success(
        request,
        _("已删除客户 #%(id)s 的个人数据，共 %(n)d 行。") % {"id": customer.pk, "n": sum(result.counts.values())},
    )
    return redirect(f"{reverse('console:privacy')}?customer={customer.pk}")
