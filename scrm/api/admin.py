from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _

from scrm.api.models import ApiKey
from scrm.api.services import api_key_create


class ApiKeyAddForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "scope"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "scope", "active", "last_used_at", "created_at"]
    list_filter = ["scope", "active"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "last_used_at", "created_at"]
    fields = ["name", "prefix", "scope", "active", "last_used_at", "created_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
            kwargs["fields"] = ["name", "scope"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["name", "scope"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # The key is drawn by the service; the admin sees its clear text exactly once.
        key, raw = api_key_create(name=obj.name, scope=obj.scope)
        obj.pk = key.pk
        obj.prefix, obj.key_hash, obj.created_at = key.prefix, key.key_hash, key.created_at
        obj._state.adding = False
        messages.warning(request, _("请立即复制 API 密钥，它不会再次显示：%(key)s") % {"key": raw})
