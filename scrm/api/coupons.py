"""POST /api/v1/coupons/redeem: the brand's till or shop reports a 任务卡 coupon code as used.

Redemption shows in the task's progress (券已核销). Reporting the same code again is harmless: the
first report's time and order stay, and the answer says it was already redeemed.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.views import APIView

from scrm.api.auth import AUTHENTICATION_CLASSES, PERMISSION_CLASSES
from scrm.api.exceptions import Unprocessable
from scrm.api.fields import AwareDateTimeField, StrictCharField
from scrm.taskcards.coupons import CouponError, coupon_redeem


class RedeemSerializer(serializers.Serializer):
    code = StrictCharField(max_length=64, help_text="券码")
    order_no = StrictCharField(
        required=False, allow_blank=True, max_length=64, default="", help_text="使用该券的订单号"
    )
    redeemed_at = AwareDateTimeField(required=False, default=None, allow_null=True, help_text="核销时间，默认为现在")


class RedeemOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    task_id = serializers.IntegerField()
    customer_id = serializers.IntegerField(allow_null=True, help_text="客户 id；客户数据已按其要求删除时为 null")
    order_no = serializers.CharField(help_text="首次核销时报告的订单号")
    redeemed_at = serializers.DateTimeField()
    already_redeemed = serializers.BooleanField(help_text="此前已报告过核销，本次未作改动")


class CouponRedeemView(APIView):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = PERMISSION_CLASSES

    @extend_schema(
        tags=["任务卡"],
        summary="核销任务卡优惠券（幂等）",
        description="品牌系统在客户用券时报告券码；重复报告同一券码返回 200，already_redeemed 为 true。",
        request=RedeemSerializer,
        responses={
            200: RedeemOutSerializer,
            400: OpenApiResponse(description="字段错误，按字段给出中文说明"),
            404: OpenApiResponse(description="券码不存在"),
            422: OpenApiResponse(description="券码还没有发给客户"),
        },
        examples=[OpenApiExample("用券", request_only=True, value={"code": "K7M2Q9XH4T", "order_no": "TM20261205001"})],
    )
    def post(self, request):
        serializer = RedeemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            result = coupon_redeem(code=data["code"], order_no=data["order_no"], at=data["redeemed_at"])
        except CouponError as exc:
            if exc.status == 404:
                raise exceptions.NotFound(exc.message) from exc
            raise Unprocessable({"code": [ErrorDetail(exc.message, code="rule")]}) from exc
        coupon = result.coupon
        body = {
            "code": coupon.code,
            "task_id": coupon.task_id,
            "customer_id": coupon.item.customer_id if coupon.item_id else None,
            "order_no": coupon.redeemed_order_no,
            "redeemed_at": coupon.redeemed_at,
            "already_redeemed": result.already,
        }
        return Response(RedeemOutSerializer(body).data)


coupon_redeem_view = CouponRedeemView.as_view()
