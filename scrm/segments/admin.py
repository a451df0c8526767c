from django.contrib import admin

from scrm.segments.models import Segment, SegmentCount, TagBatch


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "store", "created_by", "created_at")
    list_filter = ("store",)
    search_fields = ("name",)


@admin.register(SegmentCount)
class SegmentCountAdmin(admin.ModelAdmin):
    list_display = ("segment", "day", "count")
    list_filter = ("day",)


@admin.register(TagBatch)
class TagBatchAdmin(admin.ModelAdmin):
    list_display = ("segment", "action", "tag", "status", "processed", "total", "created_at")
    list_filter = ("status", "action")
