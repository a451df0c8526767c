"""PUT /api/v1/orders/<channel>/<order_no>: create or update one order (idempotent).

Shapes are checked here; the order's rules (refunds, status ladder, money range) in the service
(scrm.customers.ingest), which answers 422 for what breaks them.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from scrm.api.auth import AUTHENTICATION_CLASSES, PERMISSION_CLASSES
from scrm.api.fields import (
    KEY_SEGMENT,
    AwareDateTimeField,
    MoneyField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    key_matches,
)
from scrm.api.identities import BuyerIdentitiesSerializer, api_provenance, drf_error
from scrm.customers import ingest, ingest_orders
from scrm.customers.events import Channel
from scrm.customers.models import Order, OrderStatus

MAX_LINES = 200
ORDER_CHANNELS = [c for c in Channel.values if c not in (Channel.WECOM, Channel.SYSTEM)]


class OrderLineSerializer(serializers.Serializer):
    sku = StrictCharField(required=False, allow_blank=True, max_length=64)
    name = StrictCharField(max_length=200)
    quantity = StrictIntegerField(min_value=1, max_value=100000, default=1)
    unit_price = MoneyField(help_text="单价（元）")
    amount = MoneyField(required=False, help_text="小计；默认单价×数量")


class OrderPathSerializer(serializers.Serializer):
    """The URL's channel and order number (shapes only; the schema states them as enum and pattern)."""

    channel = serializers.CharField()
    order_no = serializers.CharField(trim_whitespace=False)

    def validate_channel(self, value):
        if value not in ORDER_CHANNELS:
            raise ValidationError(_("未知的订单渠道，可选：%(v)s") % {"v": ", ".join(ORDER_CHANNELS)})
        return value

    def validate_order_no(self, value):
        if not key_matches(KEY_SEGMENT, value):
            raise ValidationError(_("订单号为 1–64 个字符，不能含空白。"))
        return value


class OrderSerializer(serializers.Serializer):
    identities = BuyerIdentitiesSerializer(required=False, help_text="买家的身份标识；新订单必填，更新时可省略")
    paid_at = AwareDateTimeField()
    amount = MoneyField(help_text="实付金额（元）")
    status = StrictChoiceField(choices=OrderStatus.choices, default=OrderStatus.PAID)
    refund_amount = MoneyField(required=False, help_text="累计退款金额，不大于实付金额；全额退款时可省略")
    store_code = StrictCharField(required=False, allow_blank=True, max_length=32, help_text="须为已有门店的编码")
    staff_userid = StrictCharField(
        required=False, allow_blank=True, max_length=64, help_text="业绩归属导购；不填则取支付时服务该客户的导购"
    )
    lines = OrderLineSerializer(many=True, required=False, max_length=MAX_LINES)
    shipped_at = AwareDateTimeField(required=False, allow_null=True)
    carrier = StrictCharField(required=False, allow_blank=True, max_length=50)
    waybill = StrictCharField(required=False, allow_blank=True, max_length=50)
    refunded_at = AwareDateTimeField(required=False, allow_null=True)
    refund_reason = StrictCharField(required=False, allow_blank=True, max_length=100)


def order_data_from(data: dict) -> ingest.OrderData:
    """A checked OrderSerializer's data as the service takes it."""
    return ingest.OrderData(
        paid_at=data["paid_at"],
        amount=data["amount"],
        status=data["status"],
        refund_amount=data.get("refund_amount"),
        store_code=data.get("store_code", ""),
        staff_userid=data.get("staff_userid", ""),
        lines=tuple(ingest.LineData(**line) for line in data.get("lines", [])),
        shipped_at=data.get("shipped_at"),
        carrier=data.get("carrier", ""),
        waybill=data.get("waybill", ""),
        refunded_at=data.get("refunded_at"),
        refund_reason=data.get("refund_reason", ""),
    )


class OrderLineOutSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class OrderOutSerializer(serializers.ModelSerializer):
    customer_id = serializers.IntegerField()
    store_code = serializers.CharField(source="store.code", default=None, allow_null=True)
    staff_userid = serializers.CharField(source="staff.userid", default=None, allow_null=True)
    lines = OrderLineOutSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            "channel",
            "order_no",
            "customer_id",
            "store_code",
            "staff_userid",
            "paid_at",
            "amount",
            "refund_amount",
            "status",
            "lines",
        ]


class OrderUpsertResponseSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=["created", "updated", "unchanged"])
    changed = serializers.ListField(child=serializers.CharField(), help_text="本次改动的字段")
    events = serializers.ListField(child=serializers.CharField(), help_text="本次新增的时间线事件类型")
    order = OrderOutSerializer()


class OrderUpsertView(APIView):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = PERMISSION_CLASSES

    @extend_schema(
        tags=["订单"],
        summary="写入订单（幂等：重复推送不改变任何数据）",
        description=(
            "新订单返回 201，已有订单返回 200（result 为 updated 或 unchanged）。"
            "状态只前进不后退（paid → shipped → completed → partially_refunded → refunded），"
            "退款金额只增不减，所以迟到的旧状态不会覆盖新状态。首次写入记一条 order_paid，"
            "发货记一条 order_shipped，每个新的累计退款额记一条 order_refunded；之后重算客户的消费指标。"
        ),
        parameters=[
            OpenApiParameter("channel", str, OpenApiParameter.PATH, enum=ORDER_CHANNELS, description="订单渠道"),
            OpenApiParameter(
                "order_no", str, OpenApiParameter.PATH, pattern=KEY_SEGMENT, description="渠道内的订单号（≤64 字符）"
            ),
        ],
        request=OrderSerializer,
        responses={
            200: OrderUpsertResponseSerializer,
            201: OrderUpsertResponseSerializer,
            400: OpenApiResponse(description="字段错误，按字段给出中文说明"),
        },
        examples=[
            OpenApiExample(
                "门店订单",
                request_only=True,
                value={
                    "identities": {"pos_member": "M000123", "phone": "13800138000"},
                    "paid_at": "2026-11-01T15:30:00+08:00",
                    "amount": "598.00",
                    "store_code": "sh001",
                    "lines": [{"sku": "SKU001", "name": "修护精华液 30ml", "quantity": 2, "unit_price": "299.00"}],
                },
            )
        ],
    )
    def put(self, request, channel: str, order_no: str):
        path = OrderPathSerializer(data={"channel": channel, "order_no": order_no})
        serializer = OrderSerializer(data=request.data)
        # Both checked before answering, so one 400 names every bad field of path and body.
        errors = {**({} if path.is_valid() else path.errors), **({} if serializer.is_valid() else serializer.errors)}
        if errors:
            raise ValidationError(errors)
        data = serializer.validated_data
        order_data = order_data_from(data)
        try:
            result = ingest_orders.order_upsert(
                channel=channel,
                order_no=order_no,
                identities=data.get("identities", {}),
                data=order_data,
                provenance=api_provenance(request),
            )
        except DjangoValidationError as exc:
            raise drf_error(exc) from exc
        order = Order.objects.select_related("store", "staff").prefetch_related("lines").get(pk=result.order.pk)
        body = {
            "result": result.result,
            "changed": result.changed,
            "events": [str(kind) for kind in result.events],
            "order": OrderOutSerializer(order).data,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


order_upsert = OrderUpsertView.as_view()
