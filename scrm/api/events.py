"""POST /api/v1/events: a batch of timeline events from another system, item by item.

Idempotent per (source, id): a redelivered item is answered `duplicate` and stored once.
"""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import get_error_detail
from rest_framework.views import APIView

from scrm.api.auth import AUTHENTICATION_CLASSES, PERMISSION_CLASSES
from scrm.api.event_items import ItemChecker, payload_size_ok
from scrm.api.exceptions import batch_response, error_items
from scrm.api.fields import AwareDateTimeField, StrictCharField, StrictChoiceField, StrictRegexField
from scrm.api.identities import IdentitiesSerializer, api_provenance, verified_field
from scrm.customers import ingest, ingest_batch
from scrm.customers.events import Channel, EventKind
from scrm.text import is_utf8, utf8_safe

logger = logging.getLogger(__name__)

MAX_BATCH = 1000
MAX_PAYLOAD_BYTES = 16 * 1024
MAX_PAYLOAD_DEPTH = 16
EVENT_KINDS = [k for k in EventKind.values if k not in ingest.EVENT_KINDS_NOT_INGESTIBLE]


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
    verified = verified_field()
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
        if not payload_size_ok(value, MAX_PAYLOAD_BYTES):
            raise ValidationError(_("payload 不能超过 16KB。"), code="unstorable")
        return value


def _payload_ok(value: dict) -> bool:
    """EventItemSerializer.validate_payload's rule, as a yes or no (for ItemChecker)."""
    return not _payload_problem(value) and payload_size_ok(value, MAX_PAYLOAD_BYTES)


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
            "max_length": gettext_lazy("每批最多 1000 条事件。"),
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


def _event_items(source: str, raws: list, provenance: str) -> list[dict]:
    """Each item's result, in order. Plainly right items are taken by ItemChecker, the others checked by
    the serializer (its messages); one query finds the redeliveries, and the batch is stored set-wise."""
    checker = ItemChecker(EventItemSerializer(), payload_ok=_payload_ok)
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
            valid.append((result, checker.check(raw)))
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
    # The bulk path stores what it can with a few statements for the whole batch; the rest go one by one.
    stored = ingest_batch.events_ingest_bulk(
        source=source, datas=[data for _result, data in todo], provenance=provenance
    )
    for index, (result, _data) in enumerate(todo):
        if index in stored:
            done = stored[index]
            status_ = "created" if done.created else "duplicate"
            result.update(status=status_, event_id=done.event_id, customer_id=done.customer_id)
    resolved: ingest.Resolved = {}
    slow = [(result, data) for index, (result, data) in enumerate(todo) if index not in stored]
    for result, data in slow:
        if not _event_ingest_one(source, result, data, resolved, provenance):
            resolved.clear()  # what it resolved may have been rolled back with it
    if not slow and not known:
        return results  # the bulk path named only live customers, and nothing since merged them
    # A later item may have merged an earlier item's customer: answer with the one it is now.
    live = ingest.customers_live(customer_ids={r["customer_id"] for r in results if r.get("customer_id")})
    for result in results:
        if result.get("customer_id"):
            result["customer_id"] = live[result["customer_id"]]
    return results


def _event_ingest_one(source: str, result: dict, data: dict, resolved: ingest.Resolved, provenance: str) -> bool:
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
            provenance=provenance,
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
        summary="批量上报客户行为事件（≤1000 条/批）",
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
        results = _event_items(source, envelope.validated_data["events"], api_provenance(request))
        summary = {key: sum(1 for r in results if r["status"] == key) for key in ("created", "duplicate", "error")}
        body = {"source": source, "summary": summary, "results": results}
        return batch_response(body=body, results=results, collection="events")


event_batch = EventBatchView.as_view()
