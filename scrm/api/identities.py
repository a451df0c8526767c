"""What the ingestion endpoints share: the identities a request names a person by, and how they are echoed."""

import dataclasses

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import get_error_detail

from scrm.api.exceptions import Unprocessable
from scrm.api.fields import IDENTITY, StrictChoiceField, StrictRegexField
from scrm.customers.identity_values import PlaceholderValue, identity_value_normalise
from scrm.customers.models import IdentityKind
from scrm.customers.selectors import identity_row

IDENTITY_MESSAGE = gettext_lazy("标识需包含字母、1–9 的数字或汉字；没有请不传该字段。")
PHONE = r"^(\+?86[ -]?)?1[0-9]{2}[ -]?[0-9]{4}[ -]?[0-9]{4}$"


def drf_error(exc: DjangoValidationError) -> Unprocessable:
    """A service's ValidationError (a rule the schema cannot state) as a 422 keyed by field."""
    return Unprocessable(get_error_detail(exc))


class IdentitiesSerializer(serializers.Serializer):
    """身份标识 {类型: 值}，至少一个；手机号入库前即哈希并打码，从不保存明文。"""

    unionid = StrictRegexField(IDENTITY, message=IDENTITY_MESSAGE, required=False, max_length=128)
    oa_openid = StrictRegexField(IDENTITY, message=IDENTITY_MESSAGE, required=False, max_length=128)
    mp_openid = StrictRegexField(IDENTITY, message=IDENTITY_MESSAGE, required=False, max_length=128)
    phone = StrictRegexField(
        PHONE,
        message=gettext_lazy("请填写 11 位中国大陆手机号。"),
        required=False,
        max_length=32,
        help_text="中国大陆手机号，可带 +86、空格或短横线；只存哈希和打码值",
    )
    tmall = StrictRegexField(IDENTITY, message=IDENTITY_MESSAGE, required=False, max_length=128)
    jd = StrictRegexField(IDENTITY, message=IDENTITY_MESSAGE, required=False, max_length=128)
    youzan = StrictRegexField(IDENTITY, message=IDENTITY_MESSAGE, required=False, max_length=128)
    pos_member = StrictRegexField(IDENTITY, message=IDENTITY_MESSAGE, required=False, max_length=128)
    wecom_external_userid = StrictRegexField(IDENTITY, message=IDENTITY_MESSAGE, required=False, max_length=128)
    # With require_one, the schema says at least one property (scrm.api.schema).
    require_one = True

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ValidationError(
                    {k: [_("未知的身份类型，可选：%(kinds)s") % {"kinds": ", ".join(self.fields)}] for k in unknown}
                )
        return super().to_internal_value(data)

    def validate(self, attrs):
        errors = {}
        for kind, value in attrs.items():
            try:
                attrs[kind] = identity_value_normalise(value)
            except PlaceholderValue:
                errors[kind] = [
                    _("“%(value)s”不是有效的标识（占位值不能作为身份），没有请不传该字段。") % {"value": value}
                ]
        if errors:
            raise ValidationError(errors, code="placeholder")
        if self.require_one and not attrs:
            raise ValidationError(_("至少需要一个身份标识。"))
        return attrs


class BuyerIdentitiesSerializer(IdentitiesSerializer):
    """订单买家的身份标识：新订单必填，更新已有订单时可省略或为空。"""

    require_one = False


class IdentityOutSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    masked = serializers.CharField(help_text="打码后的标识；手机号只显示前三后四位")


def identity_rows(identities) -> list[dict]:
    return [dataclasses.asdict(identity_row(identity)) for identity in identities]


def verified_field():
    return serializers.ListField(
        child=StrictChoiceField(choices=IdentityKind.choices),
        required=False,
        max_length=len(IdentityKind.choices),
        help_text='已验证的身份类型，如 ["phone"]（来自微信手机号授权或短信验证码）；已验证的手机号可以合并客户',
    )


def api_provenance(request) -> str:
    """Who sent this request, as identities record it: "api:<API 密钥名称>" (or the signed-in admin)."""
    key = getattr(request, "auth", None)
    name = getattr(key, "name", "") or request.user.get_username()
    return f"api:{name}"[:100]
