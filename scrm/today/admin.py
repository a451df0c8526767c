from django.contrib import admin

from scrm.today.models import PushLog, ReminderItem, ReminderSettings, SopRule


@admin.register(ReminderSettings)
class ReminderSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return not ReminderSettings.objects.exists()


@admin.register(ReminderItem)
class ReminderItemAdmin(admin.ModelAdmin):
    list_display = ["kind", "customer", "staff", "due_on", "score", "state", "closed_at"]
    list_filter = ["kind", "state"]
    raw_id_fields = ["customer", "staff", "material"]
    search_fields = ["customer__name", "staff__userid"]


@admin.register(PushLog)
class PushLogAdmin(admin.ModelAdmin):
    list_display = ["kind", "staff", "day", "status", "errcode", "created_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["staff", "item"]


@admin.register(SopRule)
class SopRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "trigger", "days", "enabled", "store", "created_at"]
    list_filter = ["trigger", "enabled"]
    raw_id_fields = ["segment", "material", "created_by"]
