from django.contrib import admin

from scrm.privacy.models import AccessLog, Erasure


class ReadOnly(admin.ModelAdmin):
    """An audit trail: nobody edits or deletes it from the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnly):
    list_display = ["at", "actor", "action", "customer_id", "subject", "ip"]
    list_filter = ["action"]
    search_fields = ["actor", "=customer_id", "subject"]
    date_hierarchy = "at"


@admin.register(Erasure)
class ErasureAdmin(ReadOnly):
    list_display = ["at", "customer_id", "actor"]
    search_fields = ["=customer_id", "actor"]
