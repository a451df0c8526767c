"""PUT /api/v1/products/<sku>: the product catalogue, pushed by the brand's systems.

Usage days (how long one unit lasts) make order lines tell when a customer runs out (今日's 补货提醒);
a mini-program page makes the product's card ready to send from 今日.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from scrm.api.auth import AUTHENTICATION_CLASSES, PERMISSION_CLASSES
from scrm.api.fields import KEY_SEGMENT, StrictCharField, StrictIntegerField, StrictRegexField, key_matches
from scrm.materials.services import MP_APPID, mp_appid_error, mp_page_error
from scrm.products.models import Product
from scrm.products.services import product_upsert


class ProductSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    category = StrictCharField(required=False, allow_blank=True, max_length=100, default="")
    image_url = StrictRegexField(
        r"^(https?://[^\s\u0000]+)?$",
        message=_("请填写 http(s):// 开头的图片地址。"),
        required=False,
        allow_blank=True,
        max_length=500,
        default="",
    )
    usage_days = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=3650, default=None, help_text="一件可用的天数"
    )
    mp_appid = StrictRegexField(
        MP_APPID.pattern,
        message=mp_appid_error("x"),
        required=False,
        allow_blank=True,
        max_length=64,
        default="",
        help_text="小程序 appid；与 mp_page 同时填写",
    )
    mp_page = StrictRegexField(
        r"^[^?\u0000]*\.html(\?[^\u0000]*)?$",
        message=mp_page_error("x"),
        required=False,
        allow_blank=True,
        max_length=255,
        default="",
        help_text="小程序商品页路径（以 .html 结尾）；与 mp_appid 同时填写，并需要 image_url",
    )

    def validate(self, attrs):
        # Fields that go together: rules the schema cannot state (422).
        errors = {}
        if bool(attrs["mp_appid"]) != bool(attrs["mp_page"]):
            errors["mp_page"] = [ErrorDetail(_("小程序 appid 和页面需同时填写。"), code="pair_required")]
        if attrs["mp_page"] and not attrs["image_url"]:
            errors["image_url"] = [
                ErrorDetail(_("填写小程序页面时需要商品图，小程序卡片要用它作封面。"), code="image_required")
            ]
        if errors:
            raise ValidationError(errors)
        return attrs


class ProductOutSerializer(serializers.ModelSerializer):
    image_url = serializers.CharField(help_text="商品图地址（http(s)://）；没有为空字符串")
    material_id = serializers.IntegerField(allow_null=True, help_text="为该商品生成的小程序卡片素材")

    class Meta:
        model = Product
        fields = ["sku", "name", "category", "image_url", "usage_days", "mp_appid", "mp_page", "material_id"]


class ProductUpsertView(APIView):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = PERMISSION_CLASSES

    @extend_schema(
        tags=["商品"],
        summary="写入商品（幂等）",
        description=(
            "按 SKU 新建或整体替换商品，新商品返回 201，已有商品返回 200。usage_days 用于按订单明细推算客户何时用完，"
            "填写小程序 appid 和页面时自动生成一张已发布的小程序卡片素材，今日提醒里可一键发送。"
        ),
        parameters=[
            OpenApiParameter(
                "sku", str, OpenApiParameter.PATH, pattern=KEY_SEGMENT, description="商品 SKU（1–64 字符，不含空白）"
            )
        ],
        request=ProductSerializer,
        responses={
            200: ProductOutSerializer,
            201: ProductOutSerializer,
            400: OpenApiResponse(description="字段错误，按字段给出中文说明"),
        },
        examples=[
            OpenApiExample(
                "精华",
                request_only=True,
                value={
                    "name": "修护精华液 30ml",
                    "category": "精华",
                    "usage_days": 60,
                    "image_url": "https://img.example.com/sku001.jpg",
                    "mp_appid": "wx5f3a8c9d2e1b4a67",
                    "mp_page": "pages/product/detail.html?sku=SKU001",
                },
            )
        ],
    )
    def put(self, request, sku: str):
        serializer = ProductSerializer(data=request.data)
        errors = {} if serializer.is_valid() else dict(serializer.errors)
        if not key_matches(KEY_SEGMENT, sku):
            errors["sku"] = [ErrorDetail(_("SKU 为 1–64 个字符，不能含空白。"), code="invalid")]
        if errors:
            raise ValidationError(errors)
        product, created = product_upsert(sku=sku, **serializer.validated_data)
        body = ProductOutSerializer(product).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


product_upsert_view = ProductUpsertView.as_view()
