from django.contrib import admin
from django.db import models

from scrm.materials.models import (
    BulkUpload,
    BulkUploadItem,
    Material,
    MaterialCategory,
    MaterialFavourite,
    MaterialSend,
)


@admin.register(MaterialCategory)
class MaterialCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "order"]
    search_fields = ["name"]
    list_filter = ["parent"]


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "category", "status", "send_count", "updated_at"]
    search_fields = ["title", "content", "keywords"]
    list_filter = ["kind", "status", "category"]
    filter_horizontal = ["audience_tags"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # Files go in through the console, where they are checked by content and re-encoded; the admin
    # upload widget would skip every check.
    readonly_fields = [
        "file",
        "thumbnail",
        "cover",
        "file_name",
        "file_size",
        "file_mime",
        "published_at",
        "send_count",
        "wecom_media_id",
        "wecom_media_uploaded_at",
    ]


@admin.register(MaterialSend)
class MaterialSendAdmin(admin.ModelAdmin):
    list_display = ["material", "staff", "customer", "status", "sent_at"]
    search_fields = ["material__title", "staff__name", "customer__name"]
    list_filter = ["status", "material__kind"]
    raw_id_fields = ["material", "staff", "customer"]
    date_hierarchy = "sent_at"


@admin.register(MaterialFavourite)
class MaterialFavouriteAdmin(admin.ModelAdmin):
    list_display = ["staff", "material", "created_at"]
    search_fields = ["staff__name", "material__title"]
    list_filter = ["material__kind"]
    raw_id_fields = ["staff", "material"]


class BulkUploadItemInline(admin.TabularInline):
    model = BulkUploadItem
    fields = ["position", "name", "status", "error", "material"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(BulkUpload)
class BulkUploadAdmin(admin.ModelAdmin):
    list_display = ["__str__", "created_by", "category", "created_at", "finished_at"]
    search_fields = ["created_by__name", "items__name"]
    list_filter = ["finished_at"]
    raw_id_fields = ["created_by", "category"]
    inlines = [BulkUploadItemInline]


@admin.register(BulkUploadItem)
class BulkUploadItemAdmin(admin.ModelAdmin):
    list_display = ["name", "batch", "status", "error", "material"]
    search_fields = ["name", "error"]
    list_filter = ["status"]
    # The staged file is the worker's; the admin must not swap it for an unchecked one.
    readonly_fields = ["staged"]
    raw_id_fields = ["batch", "material"]
