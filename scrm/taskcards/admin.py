from django.contrib import admin

from scrm.taskcards.models import Coupon, Task, TaskItem, TaskNudge


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("name", "coupon_mode", "starts_at", "deadline", "created_by")
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
