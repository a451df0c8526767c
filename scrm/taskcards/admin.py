from django.contrib import admin

from scrm.taskcards.models import Coupon, GroupSendBatch, Task, TaskItem, TaskNudge


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "coupon_mode", "starts_at", "deadline", "created_by")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(TaskItem)
class TaskItemAdmin(admin.ModelAdmin):
    list_display = ("task", "staff", "customer", "state", "sent_at")
    list_filter = ("state",)
    raw_id_fields = ("task", "staff", "customer")


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = ("code", "task", "item", "assigned_at", "redeemed_at")
    search_fields = ("code",)
    raw_id_fields = ("task", "item")


@admin.register(TaskNudge)
class TaskNudgeAdmin(admin.ModelAdmin):
    list_display = ("task", "staff", "open_items", "created_at")


@admin.register(GroupSendBatch)
class GroupSendBatchAdmin(admin.ModelAdmin):
    list_display = ("task", "staff", "number", "state", "msgid", "sent_at", "pulled_at")
    list_filter = ("state",)
    raw_id_fields = ("task", "staff")
