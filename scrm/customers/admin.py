from django.contrib import admin

from scrm.customers.models import (
    Customer,
    CustomerTag,
    Event,
    FollowRelation,
    Identity,
    Note,
    Order,
    OrderLine,
    Tag,
    TagGroup,
)


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ["kind", "display", "created_at"]
    readonly_fields = ["created_at"]


class FollowRelationInline(admin.TabularInline):
    model = FollowRelation
    extra = 0
    fields = ["staff", "external_userid", "remark", "state", "added_at", "ended_at", "ended_by"]
    raw_id_fields = ["staff"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "store", "lifecycle_stage", "order_count", "total_spend", "churn_risk"]
    search_fields = ["name", "phone_masked", "identities__value"]
    list_filter = ["lifecycle_stage", "churn_risk", "store", "source", "gender"]
    list_select_related = ["store"]
    raw_id_fields = ["merged_into"]
    readonly_fields = [
        "phone_hash",
        "lifecycle_stage",
        "order_count",
        "refund_count",
        "total_spend",
        "avg_order_value",
        "first_order_at",
        "last_order_at",
        "repurchase_cycle_days",
        "next_expected_on",
        "churn_risk",
        "churn_reason",
        "figures_updated_at",
    ]
    inlines = [IdentityInline, FollowRelationInline]


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ["kind", "display", "value", "customer"]
    search_fields = ["value", "display"]
    list_filter = ["kind"]
    raw_id_fields = ["customer"]


@admin.register(FollowRelation)
class FollowRelationAdmin(admin.ModelAdmin):
    list_display = ["staff", "customer", "external_userid", "remark", "added_at", "ended_at", "ended_by"]
    search_fields = ["external_userid", "remark", "staff__name", "customer__name"]
    list_filter = ["ended_by", "add_way", "staff__store"]
    list_select_related = ["staff", "customer"]
    raw_id_fields = ["staff", "customer"]
    date_hierarchy = "added_at"


class TagInline(admin.TabularInline):
    model = Tag
    extra = 0
    fields = ["name", "order", "wecom_tag_id", "source", "deleted"]


@admin.register(TagGroup)
class TagGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "source", "wecom_group_id", "deleted"]
    search_fields = ["name"]
    list_filter = ["source", "deleted"]
    inlines = [TagInline]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "group", "order", "source", "wecom_tag_id", "deleted"]
    search_fields = ["name", "group__name"]
    list_filter = ["group", "source", "deleted"]


@admin.register(CustomerTag)
class CustomerTagAdmin(admin.ModelAdmin):
    list_display = ["customer", "tag", "added_by", "source", "created_at"]
    search_fields = ["customer__name", "tag__name"]
    list_filter = ["source", "tag__group"]
    raw_id_fields = ["customer", "added_by"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "channel", "customer", "staff", "title"]
    search_fields = ["title", "dedupe_key", "customer__name"]
    list_filter = ["kind", "channel"]
    raw_id_fields = ["customer", "staff"]
    date_hierarchy = "occurred_at"


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["order_no", "channel", "customer", "store", "staff", "paid_at", "amount", "status"]
    search_fields = ["order_no", "customer__name"]
    list_filter = ["channel", "status", "store"]
    raw_id_fields = ["customer", "staff"]
    date_hierarchy = "paid_at"
    inlines = [OrderLineInline]


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = ["order", "sku", "name", "quantity", "unit_price", "amount"]
    search_fields = ["sku", "name", "order__order_no"]
    list_select_related = ["order"]
    raw_id_fields = ["order"]


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["customer", "staff", "body", "next_contact_on", "done", "created_at"]
    search_fields = ["body", "customer__name", "staff__name"]
    list_filter = ["done", "staff__store"]
    raw_id_fields = ["customer", "staff"]
