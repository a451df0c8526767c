from django.contrib import admin

from scrm.livecodes.models import (
    LiveCode,
    LiveCodeAdd,
    LiveCodeAttachment,
    LiveCodeDayCount,
    LiveCodeDecision,
    LiveCodeGuide,
    StoreWelcome,
    WelcomeSend,
)


@admin.register(LiveCode)
class LiveCodeAdmin(admin.ModelAdmin):
    list_display = ("name", "channel_group", "store", "state", "spread_mode", "sync_status", "deleted_at")
    list_filter = ("channel_group", "spread_mode", "sync_status")
    search_fields = ("name", "state", "config_id")
    readonly_fields = ("config_id", "qr_code", "wecom_users", "sync_status", "sync_error")


@admin.register(LiveCodeDecision)
class LiveCodeDecisionAdmin(admin.ModelAdmin):
    list_display = ("code", "reason", "users_after", "detail", "created_at")
    list_filter = ("reason",)


@admin.register(WelcomeSend)
class WelcomeSendAdmin(admin.ModelAdmin):
    # `error` says why a welcome failed, including one cut mid-send (welcome_sweep).
    list_display = ("welcome_code", "code", "userid", "external_userid", "status", "error", "received_at", "sent_at")
    list_filter = ("status",)


admin.site.register(StoreWelcome)


@admin.register(LiveCodeGuide)
class LiveCodeGuideAdmin(admin.ModelAdmin):
    list_display = ("code", "staff", "backup", "order")
    list_filter = ("backup",)
    search_fields = ("code__name", "staff__name")
    raw_id_fields = ("code", "staff")


@admin.register(LiveCodeAttachment)
class LiveCodeAttachmentAdmin(admin.ModelAdmin):
    list_display = ("code", "material", "order")
    search_fields = ("code__name", "material__title")
    raw_id_fields = ("code", "material")


@admin.register(LiveCodeDayCount)
class LiveCodeDayCountAdmin(admin.ModelAdmin):
    list_display = ("code", "staff", "day", "count", "over_cap")
    search_fields = ("code__name", "staff__name")
    date_hierarchy = "day"
    raw_id_fields = ("code", "staff")


@admin.register(LiveCodeAdd)
class LiveCodeAddAdmin(admin.ModelAdmin):
    list_display = ("code", "staff", "added_at", "over_cap")
    list_filter = ("over_cap",)
    search_fields = ("code__name", "staff__name")
    raw_id_fields = ("code", "relation", "staff")
