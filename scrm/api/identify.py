"""POST /api/v1/customers/identify: find (or create) the one customer behind a set of identities.

Auth: `Authorization: Api-Key <key>` (scrm.api.auth); admins' session/Basic auth also works.
Idempotent: the same identities name the same customer however often they are sent.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from scrm.api.auth import AUTHENTICATION_CLASSES, PERMISSION_CLASSES
from scrm.api.fields import StrictCharField, StrictChoiceField
from scrm.api.identities import (
    IdentitiesSerializer,
    IdentityOutSerializer,
    api_provenance,
    drf_error,
    identity_rows,
    verified_field,
)
from scrm.customers import ingest
from scrm.customers.events import Channel
from scrm.customers.models import Gender, Identity


class ProfileSerializer(serializers.Serializer):
    name = StrictCharField(required=False, allow_blank=True, max_length=100)
    gender = StrictChoiceField(required=False, choices=Gender.choices, help_text="0 未知 / 1 男 / 2 女")
    birthday = serializers.DateField(required=False, allow_null=True)
    store_code = StrictCharField(required=False, allow_blank=True, max_length=32, help_text="须为已有门店的编码")


class IdentifySerializer(serializers.Serializer):
    identities = IdentitiesSerializer()
    verified = verified_field()
    profile = ProfileSerializer(required=False)
    channel = StrictChoiceField(
        required=False, choices=Channel.choices, help_text="新客户的来源渠道；默认按身份类型推断"
    )


class IdentifyResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created = serializers.BooleanField(help_text="这些身份此前都不认识，新建了客户")
    outcome = serializers.ChoiceField(
        choices=["created", "matched", "merged", "suggested", "conflict"],
        help_text="created 新建 / matched 找到已有客户 / merged 合并了其他客户（见 merged）/ "
        "suggested 手机号相同但证据不足，生成了“可能是同一人”的合并建议（见 suggested）/ "
        "conflict 会让一个人有两个同类专属身份（如两个 unionid），冲突的身份未关联，已记录待审核",
    )
    merged = serializers.ListField(child=serializers.IntegerField(), help_text="本次合并进来的客户 id")
    suggested = serializers.ListField(child=serializers.IntegerField(), help_text="可能是同一人的客户 id")
    conflicts = serializers.ListField(child=serializers.CharField(), help_text="拒绝关联的身份类型")
    name = serializers.CharField()
    identities = IdentityOutSerializer(many=True)


class CustomerIdentifyView(APIView):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = PERMISSION_CLASSES

    @extend_schema(
        tags=["客户"],
        summary="识别客户（按身份标识找到或创建唯一客户，必要时合并）",
        request=IdentifySerializer,
        responses={
            200: IdentifyResponseSerializer,
            201: IdentifyResponseSerializer,
            400: OpenApiResponse(description="字段错误，按字段给出中文说明"),
        },
        examples=[
            OpenApiExample(
                "小程序用户",
                request_only=True,
                value={
                    "identities": {"unionid": "oUNION123", "mp_openid": "oMP456", "phone": "13800138000"},
                    "profile": {"name": "王小姐", "gender": 2, "store_code": "sh001"},
                },
            )
        ],
    )
    def post(self, request):
        serializer = IdentifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        profile = data.get("profile", {})
        try:
            result = ingest.customer_upsert_from_api(
                identities=data["identities"],
                name=profile.get("name", ""),
                gender=profile.get("gender"),
                birthday=profile.get("birthday"),
                store_code=profile.get("store_code", ""),
                channel=data.get("channel", ""),
                verified=set(data.get("verified", [])),
                provenance=api_provenance(request),
            )
        except DjangoValidationError as exc:
            raise drf_error(exc) from exc
        customer = result.customer
        body = {
            "id": customer.pk,
            "created": result.created,
            "outcome": result.resolution.outcome,
            "merged": result.resolution.merged,
            "suggested": result.resolution.suggested,
            "conflicts": result.resolution.conflicts,
            "name": customer.name,
            "identities": identity_rows(
                result.resolution.identities
                if result.resolution.identities is not None
                else Identity.objects.filter(customer=customer).order_by("id")
            ),
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


customer_identify = CustomerIdentifyView.as_view()
