"""POST /api/v1/orders: up to 1,000 orders in one request (a shop's backlog after a sale), each handled
as PUT /orders/<channel>/<order_no> handles one, with per-item results; every touched customer's
figures are refreshed once after the batch, not once per order."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import get_error_detail
from rest_framework.views import APIView

from scrm.api.auth import AUTHENTICATION_CLASSES, PERMISSION_CLASSES
from scrm.api.events import ApiErrorItemSerializer
from scrm.api.exceptions import batch_response, error_items
from scrm.api.fields import KEY_SEGMENT, StrictChoiceField, StrictRegexField
from scrm.api.identities import api_provenance
from scrm.api.orders import ORDER_CHANNELS, OrderSerializer, order_data_from
from scrm.customers import ingest_orders
from scrm.customers.services import figures_refresh_batched
from scrm.text import utf8_safe

logger = logging.getLogger(__name__)

MAX_ORDERS = 1000


class OrderItemSerializer(OrderSerializer):
    channel = StrictChoiceField(choices=ORDER_CHANNELS, help_text="订单渠道")
    order_no = StrictRegexField(
        KEY_SEGMENT, message=gettext_lazy("订单号为 1–64 个字符，不能含空白。"), help_text="渠道内的订单号"
    )


@extend_schema_field(OrderItemSerializer(many=True))
class OrderItemsField(serializers.ListField):
    """Items are checked one by one in the view, so one bad order does not reject the batch."""


class OrderBatchSerializer(serializers.Serializer):
    orders = OrderItemsField(
        child=serializers.JSONField(),
        min_length=1,
        max_length=MAX_ORDERS,
        error_messages={
            "max_length": gettext_lazy("每批最多 1000 个订单。"),
            "min_length": gettext_lazy("至少需要一个订单。"),
        },
    )


class OrderResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "error"])
    customer_id = serializers.IntegerField(required=False)
    errors = ApiErrorItemSerializer(many=True, required=False, help_text="该订单的错误，每个字段一项")


class OrderBatchSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error = serializers.IntegerField()


class OrderBatchResponseSerializer(serializers.Serializer):
    summary = OrderBatchSummarySerializer()
    results = OrderResultSerializer(many=True)


def _one(checker: OrderItemSerializer, index: int, raw, provenance: str) -> dict:
    result = {"index": index}
    if not isinstance(raw, dict):
        return {
            **result,
            "status": "error",
            "errors": [{"field": "", "code": "invalid", "message": _("每个订单必须是 JSON 对象。")}],
        }
    try:
        data = checker.run_validation(raw)
    except ValidationError as exc:
        return {**result, "status": "error", "errors": error_items(exc.detail)}
    try:
        done = ingest_orders.order_upsert(
            channel=data["channel"],
            order_no=data["order_no"],
            identities=data.get("identities", {}),
            data=order_data_from(data),
            provenance=provenance,
        )
    except DjangoValidationError as exc:
        errors = [{**item, "code": "rule"} for item in error_items(get_error_detail(exc))]
        return {**result, "status": "error", "errors": errors}
    except Exception:
        # One order's unexpected failure must not cost the others; the client retries this one.
        logger.exception("order item %s:%s failed", utf8_safe(str(data["channel"])), utf8_safe(str(data["order_no"])))
        message = _("服务器处理失败，请稍后重试该订单。")
        return {**result, "status": "error", "errors": [{"field": "", "code": "server_error", "message": message}]}
    return {**result, "status": done.result, "customer_id": done.order.customer_id}


class OrderBatchView(APIView):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = PERMISSION_CLASSES

    @extend_schema(
        tags=["订单"],
        summary="批量写入订单（≤1000 个/批，幂等）",
        description=(
            "每个订单按 PUT /api/v1/orders/<渠道>/<订单号> 的规则单独处理，合法的订单即使同批有错误也会保存；"
            "本批涉及的客户在整批处理后各重算一次消费指标。只要有一个成功即返回 200；全部失败返回 400 或 422，"
            "都带逐条结果 results。"
        ),
        request=OrderBatchSerializer,
        responses={
            200: OrderBatchResponseSerializer,
            400: OrderBatchResponseSerializer,
            422: OrderBatchResponseSerializer,
        },
    )
    def post(self, request):
        envelope = OrderBatchSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        checker, provenance = OrderItemSerializer(), api_provenance(request)
        with figures_refresh_batched():
            results = [_one(checker, i, raw, provenance) for i, raw in enumerate(envelope.validated_data["orders"])]
        keys = ("created", "updated", "unchanged", "error")
        body = {"summary": {key: sum(1 for r in results if r["status"] == key) for key in keys}, "results": results}
        return batch_response(body=body, results=results, collection="orders")


order_batch = OrderBatchView.as_view()
