from django.contrib import admin

from scrm.analytics.models import (
    GuideCustomerBlock,
    GuideCustomerDay,
    GuideCustomerSlot,
    GuideDay,
    GuideStoreSpan,
    StoreDay,
)


class ReadOnlyRollupAdmin(admin.ModelAdmin):
    """Rollups are derived data: rebuild them with `manage.py rollup_daily`, never edit them by hand."""

    list_select_related = ["staff", "store"]
    search_fields = ["staff__name", "staff__userid"]
    date_hierarchy = "day"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(GuideDay)
class GuideDayAdmin(ReadOnlyRollupAdmin):
    list_display = ["day", "staff", "store", "adds", "losses", "orders", "gmv", "sends", "notes", "active_customers"]
    list_filter = ["store"]


@admin.register(GuideCustomerDay)
class GuideCustomerDayAdmin(ReadOnlyRollupAdmin):
    list_display = ["day", "kind", "staff", "customer_id", "n", "prev_day", "next_day"]
    list_filter = ["kind", "store"]


@admin.register(StoreDay)
class StoreDayAdmin(ReadOnlyRollupAdmin):
    list_select_related = ["store"]
    search_fields = ["store__name", "store__code"]
    list_display = ["day", "store", "adds", "losses", "orders", "gmv", "sends", "notes", "active_customers"]
    list_filter = ["store"]


@admin.register(GuideStoreSpan)
class GuideStoreSpanAdmin(ReadOnlyRollupAdmin):
    date_hierarchy = "last_day"
    list_display = ["staff", "store", "first_day", "last_day"]
    list_filter = ["store"]


@admin.register(GuideCustomerSlot)
class GuideCustomerSlotAdmin(ReadOnlyRollupAdmin):
    list_select_related = ["staff"]
    date_hierarchy = None
    list_display = ["staff", "customer_id", "slot"]


@admin.register(GuideCustomerBlock)
class GuideCustomerBlockAdmin(ReadOnlyRollupAdmin):
    list_select_related = ["staff"]
    date_hierarchy = "first_day"
    list_display = ["staff", "level", "first_day", "converted"]
    list_filter = ["level"]
