"""Every model of ours is in Django admin, and each changelist opens with search and filters."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse


def our_models():
    return [m for m in apps.get_models() if m._meta.app_config.name.startswith("scrm.")]


def test_every_model_is_registered_in_admin():
    missing = [m._meta.label for m in our_models() if not admin.site.is_registered(m)]
    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", our_models(), ids=lambda m: m._meta.label)
def test_changelist_opens_and_searches(admin_client, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert admin_client.get(url).status_code == 200
    if admin.site._registry[model].search_fields:
        assert admin_client.get(url, {"q": "张"}).status_code == 200


@pytest.mark.django_db
def test_a_customer_is_found_by_full_phone_number_and_merges_show_on_the_survivor(admin_client):
    from scrm.customers.models import CustomerMerge
    from scrm.customers.services import phone_hash
    from tests.factories import CustomerFactory

    wang = CustomerFactory(name="王女士", phone_hash=phone_hash("13812345678"), phone_masked="138****5678")
    gone = CustomerFactory(name="旧档案", merged_into=wang)
    CustomerMerge.objects.create(keep=wang, drop=gone, reason="unionid 相同")
    changelist = reverse("admin:customers_customer_changelist")

    found = admin_client.get(changelist, {"q": "138 1234 5678"}).content.decode()
    assert "王女士" in found
    assert "王女士" not in admin_client.get(changelist, {"q": "13900000000"}).content.decode()
    active = admin_client.get(changelist, {"merged": "no"}).content.decode()
    assert "王女士" in active and "旧档案" not in active
    page = admin_client.get(reverse("admin:customers_customer_change", args=[wang.pk])).content.decode()
    assert "并入本客户的记录" in page and "unionid 相同" in page
    assert "指标更新时间" in page and "Figures updated at" not in page
