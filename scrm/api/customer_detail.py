"""GET /api/v1/customers/<id>: the unified portrait as the brand's systems read it back."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from scrm.api import selectors
from scrm.api.auth import AUTHENTICATION_CLASSES, PERMISSION_CLASSES
from scrm.api.identities import IdentityOutSerializer, identity_rows
from scrm.customers.models import Customer


class StoreOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class FiguresSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = [
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


class TagOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="tag.id")
    name = serializers.CharField(source="tag.name")
    group = serializers.CharField(source="tag.group.name")


class GuideOutSerializer(serializers.Serializer):
    userid = serializers.CharField(source="staff.userid")
    name = serializers.CharField(source="staff.name")
    since = serializers.DateTimeField(source="added_at")


class CustomerPortraitSerializer(serializers.ModelSerializer):
    store = StoreOutSerializer(allow_null=True)
    identities = serializers.SerializerMethodField()
    figures = serializers.SerializerMethodField()
    tags = TagOutSerializer(source="customer_tags", many=True)
    guides = GuideOutSerializer(source="active_relations", many=True, help_text="当前服务该客户的导购")
    merged_into = serializers.SerializerMethodField(
        help_text="请求的 id 已被合并时为合并后的客户 id（即本响应的 id），否则为 null"
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "gender",
            "birthday",
            "phone_masked",
            "source",
            "store",
            "identities",
            "figures",
            "tags",
            "guides",
            "merged_into",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(IdentityOutSerializer(many=True))
    def get_identities(self, obj: Customer) -> list[dict]:
        return identity_rows(obj.identities.all())

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_merged_into(self, obj: Customer) -> int | None:
        asked = self.context.get("asked_id")
        return obj.pk if asked is not None and asked != obj.pk else None

    @extend_schema_field(FiguresSerializer)
    def get_figures(self, obj: Customer) -> dict:
        return FiguresSerializer(obj).data


class CustomerDetailView(APIView):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = PERMISSION_CLASSES

    @extend_schema(
        tags=["客户"],
        summary="客户统一画像（身份打码、消费指标、标签、服务导购）",
        description="已被合并的客户 id 返回合并后的客户：响应里的 id 和 merged_into 为合并后的 id。",
        responses={200: CustomerPortraitSerializer, 404: OpenApiResponse(description="客户不存在")},
        parameters=[OpenApiParameter("customer_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="客户 id")],
    )
    def get(self, request, customer_id: int):
        customer = selectors.customer_api_get(customer_id=customer_id)
        if customer is None:
            raise NotFound(_("客户不存在。"))
        return Response(CustomerPortraitSerializer(customer, context={"asked_id": customer_id}).data)


customer_detail = CustomerDetailView.as_view()
