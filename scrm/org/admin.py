from django.contrib import admin

from scrm.org.models import Staff, Store


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city"]
    search_fields = ["code", "name", "city"]
    list_filter = ["city"]


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["name", "userid", "store", "role", "is_active", "departed_at"]
    search_fields = ["name", "userid", "mobile"]
    list_filter = ["role", "is_active", "store"]
    list_select_related = ["store"]
    raw_id_fields = ["user"]
