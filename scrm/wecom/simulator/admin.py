from django.contrib import admin

from scrm.wecom.simulator import models


@admin.register(models.SimMember)
class SimMemberAdmin(admin.ModelAdmin):
    list_display = ["userid", "name", "status"]
    list_filter = ["status"]
    search_fields = ["userid", "name"]


@admin.register(models.SimExternalContact)
class SimExternalContactAdmin(admin.ModelAdmin):
    list_display = ["external_userid", "name", "type", "gender", "unionid"]
    search_fields = ["external_userid", "name", "unionid"]


@admin.register(models.SimFollowUser)
class SimFollowUserAdmin(admin.ModelAdmin):
    list_display = ["member", "contact", "remark", "state", "add_way"]
    list_select_related = ["member", "contact"]
    search_fields = ["member__userid", "contact__external_userid", "remark"]


class SimTagInline(admin.TabularInline):
    model = models.SimTag
    extra = 0


@admin.register(models.SimTagGroup)
class SimTagGroupAdmin(admin.ModelAdmin):
    list_display = ["group_id", "name", "order", "deleted"]
    inlines = [SimTagInline]


@admin.register(models.SimTransfer)
class SimTransferAdmin(admin.ModelAdmin):
    list_display = ["handover_userid", "takeover_userid", "external_userid", "resigned", "status", "created_at"]
    list_filter = ["status", "resigned"]


@admin.register(models.SimChatMessage)
class SimChatMessageAdmin(admin.ModelAdmin):
    list_display = ["userid", "external_userid", "direction", "msgtype", "created_at"]
    search_fields = ["userid", "external_userid"]


@admin.register(models.SimFault)
class SimFaultAdmin(admin.ModelAdmin):
    list_display = ["path", "errcode", "errmsg", "remaining", "created_at"]


for model in (
    models.SimTag,
    models.SimContactWay,
    models.SimMedia,
    models.SimAccessToken,
    models.SimTicket,
    models.SimOAuthCode,
    models.SimWelcomeCode,
    models.SimMsgTemplate,
    models.SimGroupMsgTask,
    models.SimGroupMsgResult,
    models.SimSentMessage,
):
    admin.site.register(model)
