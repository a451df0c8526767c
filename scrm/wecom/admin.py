from django.contrib import admin

from scrm.wecom.models import TagOutbox


@admin.register(TagOutbox)
class TagOutboxAdmin(admin.ModelAdmin):
    list_display = ["created_at", "userid", "external_userid", "add_tag_ids", "remove_tag_ids", "status", "attempts"]
    search_fields = ["userid", "external_userid", "last_error"]
    list_filter = ["status"]
