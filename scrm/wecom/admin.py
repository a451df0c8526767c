from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from scrm.customers.identity import customer_merge_undo
from scrm.customers.models import CustomerMerge
from scrm.wecom import dispatch, tag_outbox
from scrm.wecom.models import CallbackInbox, CallbackNonce, ChatArchiveCursor, TagOutbox


@admin.register(TagOutbox)
class TagOutboxAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "userid",
        "external_userid",
        "add_tag_ids",
        "remove_tag_ids",
        "status",
        "attempts",
        "last_error",
        "processed_at",
    ]
    search_fields = ["userid", "external_userid", "last_error"]
    list_filter = ["status"]
    date_hierarchy = "created_at"
    actions = ["push_again"]

    @admin.action(description=_("重新推送"))
    def push_again(self, request, queryset):
        count = tag_outbox.tag_outbox_retry(row_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("已重新排队 %(count)d 条") % {"count": count}, messages.SUCCESS)


@admin.register(CallbackInbox)
class CallbackInboxAdmin(admin.ModelAdmin):
    list_display = [
        "received_at",
        "event",
        "change_type",
        "userid",
        "external_userid",
        "status",
        "attempts",
        "last_error",
        "processed_at",
    ]
    search_fields = ["key", "userid", "external_userid", "last_error"]
    list_filter = ["status", "event", "change_type"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "key",
        "event",
        "change_type",
        "userid",
        "external_userid",
        "payload",
        "received_at",
        "processed_at",
        "attempts",
        "last_error",
    ]
    actions = ["process_again"]

    @admin.action(description=_("重新处理"))
    def process_again(self, request, queryset):
        count = dispatch.inbox_retry(row_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("已重新排队 %(count)d 条失败的回调") % {"count": count}, messages.SUCCESS)


# The merge audit lives in the customers app; its undo is part of identity resolution, registered here.
@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "keep", "drop", "reason", "undone_at"]
    list_select_related = ["keep", "drop"]
    search_fields = ["reason", "keep__name", "drop__name"]
    list_filter = ["undone_at"]
    raw_id_fields = ["keep", "drop"]
    readonly_fields = ["keep", "drop", "reason", "moved", "dropped_tags", "filled_fields", "created_at", "undone_at"]
    actions = ["undo"]

    @admin.action(description=_("撤销合并"))
    def undo(self, request, queryset):
        merges = list(queryset.filter(undone_at__isnull=True).order_by("-created_at"))
        for merge in merges:
            customer_merge_undo(merge=merge)
        self.message_user(
            request,
            ngettext("已撤销 %(count)d 次合并", "已撤销 %(count)d 次合并", len(merges)) % {"count": len(merges)},
        )


@admin.register(CallbackNonce)
class CallbackNonceAdmin(admin.ModelAdmin):
    list_display = ["received_at", "msg_signature", "nonce"]
    search_fields = ["msg_signature", "nonce"]
    date_hierarchy = "received_at"


@admin.register(ChatArchiveCursor)
class ChatArchiveCursorAdmin(admin.ModelAdmin):
    # Lowering seq re-reads the archive from there; each message is still recorded once (its msgid).
    list_display = ["seq", "pulled_at"]
