from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from scrm.customers.ingest import phone_valid
from scrm.customers.models import (
    Customer,
    CustomerMerge,
    CustomerTag,
    Event,
    FollowRelation,
    Identity,
    IdentityConflict,
    MergeSuggestion,
    Note,
    Order,
    OrderLine,
    Tag,
    TagGroup,
)
from scrm.customers.services import phone_hash


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    # Provenance: where each identity came from, when first and last seen, whether verified.
    fields = ["kind", "display", "verified", "shared", "source", "created_at", "last_seen_at"]
    readonly_fields = ["source", "created_at", "last_seen_at"]


class FollowRelationInline(admin.TabularInline):
    model = FollowRelation
    extra = 0
    fields = ["staff", "external_userid", "remark", "state", "added_at", "ended_at", "ended_by"]
    raw_id_fields = ["staff"]


class MergesKeptInline(admin.TabularInline):
    """The survivor's page lists who was merged into it, why and when (undo is a service, not an edit)."""

    model = CustomerMerge
    fk_name = "keep"
    extra = 0
    can_delete = False
    fields = ["drop", "reason", "key", "created_at", "undone_at", "undo_reason"]
    readonly_fields = fields
    verbose_name = _("并入本客户的记录")
    verbose_name_plural = _("并入本客户的记录")

    def has_add_permission(self, request, obj=None):
        return False


class MergedFilter(admin.SimpleListFilter):
    title = _("合并状态")
    parameter_name = "merged"

    def lookups(self, request, model_admin):
        return [("no", _("有效客户")), ("yes", _("已并入其他客户"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(merged_into__isnull=True)
        if self.value() == "yes":
            return queryset.filter(merged_into__isnull=False)
        return queryset


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "store", "lifecycle_stage", "order_count", "total_spend", "churn_risk", "merged_into"]
    search_fields = ["name", "phone_masked", "identities__value"]
    list_filter = [MergedFilter, "lifecycle_stage", "churn_risk", "store", "source", "gender"]
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
    inlines = [IdentityInline, FollowRelationInline, MergesKeptInline]

    def get_search_results(self, request, queryset, search_term):
        # Phones are stored only as a keyed hash: a full number typed in the search box is hashed
        # and matched (on the customer and its phone identities); the mask alone cannot tell people apart.
        results, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if phone_valid(term):
            digest = phone_hash(term)
            results |= queryset.filter(phone_hash=digest) | queryset.filter(identities__value=digest)
            duplicates = True
        return results, duplicates


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = [
        "kind",
        "display",
        "value",
        "customer",
        "verified",
        "shared",
        "source",
        "created_at",
        "last_seen_at",
    ]
    search_fields = ["value", "display"]
    list_filter = ["kind", "verified", "shared", "source"]
    raw_id_fields = ["customer"]
    readonly_fields = ["source", "created_at", "last_seen_at"]


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
    list_display = ["name", "single_choice", "order", "source", "wecom_group_id", "deleted"]
    list_editable = ["single_choice"]
    search_fields = ["name"]
    list_filter = ["source", "deleted", "single_choice"]
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


@admin.register(IdentityConflict)
class IdentityConflictAdmin(admin.ModelAdmin):
    """Joins resolution refused: both people and both values, for an admin to review."""

    list_display = ["created_at", "kind", "customer", "value", "other", "other_value", "resolved_at"]
    list_filter = ["kind", "resolved_at"]
    search_fields = ["value", "other_value"]
    raw_id_fields = ["customer", "other"]


@admin.register(MergeSuggestion)
class MergeSuggestionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "customer", "other", "kind", "evidence", "status", "decided_at"]
    list_filter = ["status", "kind"]
    search_fields = ["evidence"]
    raw_id_fields = ["customer", "other"]
