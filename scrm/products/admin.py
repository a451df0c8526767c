from django.contrib import admin

from scrm.products.models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "usage_days", "updated_at"]
    search_fields = ["sku", "name"]
    raw_id_fields = ["material"]
