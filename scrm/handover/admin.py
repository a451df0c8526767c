"""Read-mostly admin for hand-over: batches and items change only through scrm.handover.services."""

from django.contrib import admin

from scrm.handover.models import HandoverBatch, HandoverItem


class HandoverItemInline(admin.TabularInline):
    model = HandoverItem
    fields = ["external_userid", "customer", "takeover", "state", "attempt", "errcode", "reason", "settled_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    max_num = 0


@admin.register(HandoverBatch)
class HandoverBatchAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "handover", "store", "created_by"]
    list_filter = ["kind", "store"]
    search_fields = ["handover__name", "handover__userid", "created_by__name"]
    list_select_related = ["handover", "store", "created_by"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in HandoverBatch._meta.fields]
    inlines = [HandoverItemInline]

    def has_add_permission(self, request):
        return False


@admin.register(HandoverItem)
class HandoverItemAdmin(admin.ModelAdmin):
    list_display = ["batch", "external_userid", "customer", "takeover", "state", "attempt", "errcode", "reason"]
    list_filter = ["state", "batch__kind"]
    search_fields = ["external_userid", "customer__name", "takeover__name", "reason"]
    list_select_related = ["batch", "customer", "takeover"]
    raw_id_fields = ["batch", "relation", "customer", "takeover", "new_relation"]
    readonly_fields = [f.name for f in HandoverItem._meta.fields]

    def has_add_permission(self, request):
        return False
