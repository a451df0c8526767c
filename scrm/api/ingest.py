"""Ingestion API for the brand's other systems: identities, events, orders, and the portrait read-back.

Auth: `Authorization: Api-Key <key>` (scrm.api.auth); admins' session/Basic auth also works.
Every write is idempotent, so clients may retry any request after a timeout.
"""

import dataclasses
import json
import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import APIView

from scrm.api import selectors
from scrm.api.auth import AUTHENTICATION_CLASSES, PERMISSION_CLASSES
from scrm.api.exceptions import Unprocessable, error_body, error_items, is_rule_error
from scrm.api.fields import (
    IDENTITY,
    KEY_SEGMENT,
    AwareDateTimeField,
    MoneyField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictRegexField,
    key_matches,
)
from scrm.customers import ingest
from scrm.customers.events import Channel, EventKind
from scrm.customers.identity_values import PlaceholderValue, identity_value_normalise
from scrm.customers.models import Customer, Gender, Identity, IdentityKind, Order, OrderStatus
from scrm.customers.selectors import identity_row
from scrm.text import is_utf8, utf8_safe

logger = logging.getLogger(__name__)

MAX_BATCH = 500
MAX_PAYLOAD_BYTES = 16 * 1024
MAX_PAYLOAD_DEPTH = 16
MAX_LINES = 200
ORDER_CHANNELS = [c for c in Channel.values if c not in (Channel.WECOM, Channel.SYSTEM)]
EVENT_KINDS = [k for k in EventKind.values if k not in ingest.EVENT_KINDS_NOT_INGESTIBLE]


IDENTITY_MESSAGE = gettext_lazy("标识需包含字母、1–9 的数字或汉字；没有请不传该字段。")
PHONE = r"^(\+?86[ -]?)?1[0-9]{2}[ -]?[0-9]{4}[ -]?[0-9]{4}$"


def _drf_error(exc: DjangoValidationError) -> Unprocessable:
    """A service's ValidationError (a rule the schema cannot state) as a 422 keyed by field."""
    return Unprocessable(get_error_detail(exc))


# --- fields -------------------------------------------------------------------------------------


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


def _identity_rows(identities) -> list[dict]:
    return [dataclasses.asdict(identity_row(identity)) for identity in identities]


# --- POST /customers/identify -----------------------------------------------------------------


class ProfileSerializer(serializers.Serializer):
    name = StrictCharField(required=False, allow_blank=True, max_length=100)
    gender = StrictChoiceField(required=False, choices=Gender.choices, help_text="0 未知 / 1 男 / 2 女")
    birthday = serializers.DateField(required=False, allow_null=True)
    store_code = StrictCharField(required=False, allow_blank=True, max_length=32, help_text="须为已有门店的编码")


def _verified_field():
    return serializers.ListField(
        child=StrictChoiceField(choices=IdentityKind.choices),
        required=False,
        max_length=len(IdentityKind.choices),
        help_text='已验证的身份类型，如 ["phone"]（来自微信手机号授权或短信验证码）；已验证的手机号可以合并客户',
    )


class IdentifySerializer(serializers.Serializer):
    identities = IdentitiesSerializer()
    verified = _verified_field()
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
            )
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc
        customer = result.customer
        body = {
            "id": customer.pk,
            "created": result.created,
            "outcome": result.resolution.outcome,
            "merged": result.resolution.merged,
            "suggested": result.resolution.suggested,
            "conflicts": result.resolution.conflicts,
            "name": customer.name,
            "identities": _identity_rows(Identity.objects.filter(customer=customer).order_by("id")),
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


# --- POST /events -------------------------------------------------------------------------------


class EventKindField(StrictChoiceField):
    default_error_messages = {
        "invalid_choice": gettext_lazy("未知的事件类型 {input}。"),
        "order_kind": gettext_lazy("订单事件请通过 PUT /api/v1/orders/<渠道>/<订单号> 上报。"),
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and data in ingest.EVENT_KINDS_NOT_INGESTIBLE:
            # Orders carry amounts the figures need; a bare event would leave them wrong.
            self.fail("order_kind")
        return super().to_internal_value(data)


@extend_schema_field({"type": "object", "additionalProperties": True})
class PayloadField(serializers.JSONField):
    """Any JSON object (checked in EventItemSerializer.validate_payload)."""


class EventItemSerializer(serializers.Serializer):
    id = StrictCharField(max_length=120, help_text="来源系统中的唯一 id；重复推送同一 id 只记一次")
    kind = EventKindField(choices=EVENT_KINDS, help_text="事件类型（订单事件请用订单接口）")
    occurred_at = AwareDateTimeField(help_text="发生时间，ISO 8601 带时区")
    channel = StrictChoiceField(choices=Channel.choices)
    identities = IdentitiesSerializer()
    verified = _verified_field()
    title = StrictCharField(
        required=False, allow_blank=True, max_length=200, help_text="时间线标题；不填则按类型和 payload 生成"
    )
    payload = PayloadField(required=False, help_text="附加数据（JSON 对象，≤16KB，嵌套≤16 层，不含 NUL 字符）")
    staff_userid = StrictCharField(required=False, allow_blank=True, max_length=64, help_text="须为已有导购的 userid")

    def validate_payload(self, value):
        if not isinstance(value, dict):
            raise ValidationError(_("payload 必须是 JSON 对象。"))
        # What storage refuses, though the schema cannot say it: a rule, answered 422.
        problem = _payload_problem(value)
        if problem:
            raise ValidationError(problem, code="unstorable")
        if len(json.dumps(value, ensure_ascii=False).encode()) > MAX_PAYLOAD_BYTES:
            raise ValidationError(_("payload 不能超过 16KB。"), code="unstorable")
        return value


def _payload_problem(value) -> str:
    """Why a JSON value cannot be stored as a payload, or "" (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_PAYLOAD_DEPTH:
            return _("payload 嵌套不能超过 %(depth)d 层。") % {"depth": MAX_PAYLOAD_DEPTH}
        if isinstance(item, str):
            if "\x00" in item:
                # PostgreSQL cannot store NUL in JSON; the sender would retry a failure forever.
                return _("payload 不能包含 NUL 字符（\\u0000）。")
            if not is_utf8(item):
                return _("payload 含有无效的 Unicode 字符（单独的代理项 \\ud800–\\udfff）。")
        elif isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return ""


@extend_schema_field(EventItemSerializer(many=True))
class EventItemsField(serializers.ListField):
    """Items are checked one by one in the view, so one bad item does not reject the batch."""


class EventBatchSerializer(serializers.Serializer):
    source = StrictRegexField(
        r"^[A-Za-z0-9_.-]{1,40}$",
        message=gettext_lazy("来源只能由字母、数字、_ . - 组成，最长 40 个字符。"),
        help_text="推送系统的代号（如 mp、oa、pos），与 id 一起构成幂等键",
    )
    events = EventItemsField(
        child=serializers.JSONField(),
        min_length=1,
        max_length=MAX_BATCH,
        error_messages={
            "max_length": gettext_lazy("每批最多 500 条事件。"),
            "min_length": gettext_lazy("至少需要一条事件。"),
        },
    )


class ApiErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="出错的字段，嵌套用点连接；空为整体")
    code = serializers.CharField(help_text="机器可读的错误码")
    message = serializers.CharField(help_text="中文说明")


class EventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "duplicate", "error"])
    event_id = serializers.IntegerField(required=False)
    customer_id = serializers.IntegerField(required=False)
    errors = ApiErrorItemSerializer(many=True, required=False, help_text="该条的错误，每个字段一项")


class EventSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    error = serializers.IntegerField()


class EventBatchResponseSerializer(serializers.Serializer):
    source = serializers.CharField()
    summary = EventSummarySerializer()
    results = EventResultSerializer(many=True)


def _event_items(source: str, raws: list) -> list[dict]:
    """Each item's result, in order. One serializer checks them all, one query finds the redeliveries,
    and a customer met again in the batch is not resolved again."""
    checker = EventItemSerializer()
    results: list[dict] = []
    valid: list[tuple[dict, dict]] = []
    for index, raw in enumerate(raws):
        item_id = raw.get("id") if isinstance(raw, dict) else None
        # Echoed back as sent, except what cannot be encoded as UTF-8 (the response must render).
        result = {"index": index, "id": utf8_safe(str(item_id)) if item_id is not None else None}
        results.append(result)
        if not isinstance(raw, dict):
            result.update(
                status="error", errors=[{"field": "", "code": "invalid", "message": _("每条事件必须是 JSON 对象。")}]
            )
            continue
        try:
            valid.append((result, checker.run_validation(raw)))
        except ValidationError as exc:
            result.update(status="error", errors=error_items(exc.detail))
    known = ingest.events_known(source=source, source_ids=[data["id"] for _result, data in valid])
    todo = []
    for result, data in valid:
        event = known.get(data["id"])
        if event is None:
            todo.append((result, data))
        else:
            result.update(status="duplicate", event_id=event.pk, customer_id=event.customer_id)
    resolved: ingest.Resolved = {}
    for result, data in todo:
        if not _event_ingest_one(source, result, data, resolved):
            resolved.clear()  # what it resolved may have been rolled back with it
    return results


def _event_ingest_one(source: str, result: dict, data: dict, resolved: ingest.Resolved) -> bool:
    """Store one checked item and fill in its result; False when it failed."""
    try:
        event, created = ingest.event_ingest(
            source=source,
            source_id=data["id"],
            kind=data["kind"],
            occurred_at=data["occurred_at"],
            channel=data["channel"],
            identities=data["identities"],
            title=data.get("title", ""),
            payload=data.get("payload") or {},
            staff_userid=data.get("staff_userid", ""),
            resolved=resolved,
            verified=set(data.get("verified", [])),
        )
    except DjangoValidationError as exc:
        # The service's own checks are rules the schema cannot state (an unknown guide, …).
        result.update(status="error", errors=[{**item, "code": "rule"} for item in error_items(get_error_detail(exc))])
        return False
    except Exception:
        # A concurrent delivery of the same batch may have stored this very item (and won a deadlock
        # against us): then it is a duplicate, not a failure the client would retry for ever.
        stored = ingest.events_known(source=source, source_ids=[data["id"]]).get(data["id"])
        if stored is not None:
            result.update(status="duplicate", event_id=stored.pk, customer_id=stored.customer_id)
            return False
        # One item's unexpected failure must not cost the others; the client retries this one.
        logger.exception("event item %s:%s failed", source, result["id"])
        result.update(
            status="error",
            errors=[{"field": "", "code": "server_error", "message": _("服务器处理失败，请稍后重试该条。")}],
        )
        return False
    result.update(status="created" if created else "duplicate", event_id=event.pk, customer_id=event.customer_id)
    return True


class EventBatchView(APIView):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = PERMISSION_CLASSES

    @extend_schema(
        tags=["事件"],
        summary="批量上报客户行为事件（≤500 条/批）",
        description=(
            "每条事件单独处理：合法的条目即使同批有错误也会保存。幂等键为 api:<source>:<id>，"
            "重复推送返回 duplicate。只要有一条成功（created 或 duplicate）即返回 200；"
            "全部失败返回 400，两种情况都带逐条结果 results。"
        ),
        request=EventBatchSerializer,
        responses={200: EventBatchResponseSerializer, 400: EventBatchResponseSerializer},
        examples=[
            OpenApiExample(
                "小程序浏览",
                request_only=True,
                value={
                    "source": "mp",
                    "events": [
                        {
                            "id": "view-20261101-0001",
                            "kind": "mp_product_view",
                            "occurred_at": "2026-11-01T20:15:00+08:00",
                            "channel": "mp",
                            "identities": {"mp_openid": "oMP456", "unionid": "oUNION123"},
                            "payload": {"product": "修护精华液 30ml", "sku": "SKU001"},
                        }
                    ],
                },
            )
        ],
    )
    def post(self, request):
        envelope = EventBatchSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        source = envelope.validated_data["source"]
        results = _event_items(source, envelope.validated_data["events"])
        summary = {key: sum(1 for r in results if r["status"] == key) for key in ("created", "duplicate", "error")}
        body = {"source": source, "summary": summary, "results": results}
        if summary["error"] < len(results):
            return Response(body, status=status.HTTP_200_OK)
        # Nothing stored: the one error shape, with every item's errors, and the per-item results.
        items = [
            {**error, "field": ".".join(filter(None, ["events", str(result["index"]), error["field"]]))}
            for result in results
            for error in result["errors"]
        ]
        rule = is_rule_error(items)
        failed = error_body(code="unprocessable" if rule else "invalid", items=items)
        return Response({**failed, **body}, status=422 if rule else 400)


# --- PUT /orders/<channel>/<order_no> -----------------------------------------------------------


class OrderLineSerializer(serializers.Serializer):
    sku = StrictCharField(required=False, allow_blank=True, max_length=64)
    name = StrictCharField(max_length=200)
    quantity = StrictIntegerField(min_value=1, max_value=100000, default=1)
    unit_price = MoneyField(help_text="单价（元）")
    amount = MoneyField(required=False, help_text="小计；默认单价×数量")


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
        errors = {}
        if channel not in ORDER_CHANNELS:
            errors["channel"] = [_("未知的订单渠道，可选：%(v)s") % {"v": ", ".join(ORDER_CHANNELS)}]
        if not key_matches(KEY_SEGMENT, order_no):
            errors["order_no"] = [_("订单号为 1–64 个字符，不能含空白。")]
        serializer = OrderSerializer(data=request.data)
        if not serializer.is_valid():
            errors.update(serializer.errors)
        if errors:
            raise ValidationError(errors)
        data = serializer.validated_data
        order_data = ingest.OrderData(
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
        try:
            result = ingest.order_upsert(
                channel=channel, order_no=order_no, identities=data.get("identities", {}), data=order_data
            )
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc
        order = Order.objects.select_related("store", "staff").prefetch_related("lines").get(pk=result.order.pk)
        body = {
            "result": result.result,
            "changed": result.changed,
            "events": [str(kind) for kind in result.events],
            "order": OrderOutSerializer(order).data,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


# --- GET /customers/<id> ------------------------------------------------------------------------


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
        return _identity_rows(obj.identities.all())

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


customer_identify = CustomerIdentifyView.as_view()
event_batch = EventBatchView.as_view()
order_upsert = OrderUpsertView.as_view()
customer_detail = CustomerDetailView.as_view()
