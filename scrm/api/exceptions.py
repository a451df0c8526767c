"""The API's one error shape, its status codes, and the few messages DRF's Chinese catalog lacks.

Every error under /api/ answers::

    {"code": "invalid", "message": "identities.phone：请填写 11 位中国大陆手机号。",
     "errors": [{"field": "identities.phone", "code": "invalid", "message": "请填写 11 位中国大陆手机号。"}]}

400 means the request does not match the schema; 422 means it does, but a rule the schema cannot
state refused it (an unknown store code, a refund above the amount, a placeholder id). Which one is
decided by the error codes: a request is 422 only when every one of its errors is a rule's.
"""

import re

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from scrm.text import utf8_safe

# Codes of the rules the schema cannot state; errors with other codes are the schema's (400).
RULE_CODES = frozenset(
    {
        "placeholder",  # an identity value that names nobody ("null", "0", …)
        "out_of_range",  # a time before 2000 or in the future
        "unknown_store",
        "unknown_staff",
        "needs_identity",  # a new order without any identity
        "refund_exceeds_amount",
        "pair_required",  # fields that go together (mini-program appid and page)
        "image_required",
        "too_long",  # source and id together exceed the idempotency key
        "unstorable",  # an event payload storage refuses (NUL, too deep, too large)
        "rule",  # any other check of the ingestion services
    }
)

# English DRF/Django messages that reach API clients untranslated, and what to say instead.
_REWRITES = [
    (re.compile(r"^No data provided\.?$"), lambda m: _("请求体为空，请提交 JSON 数据。")),
    (re.compile(r"^CSRF Failed: .*"), lambda m: _("CSRF 校验失败：请刷新页面后重试，系统对接请使用 API 密钥。")),
    (re.compile(r"^No .+ matches the given query\.$"), lambda m: _("未找到。")),
    (re.compile(r"^(Null characters are not allowed\.|不允许是用空字符串。)$"), lambda m: _("不能包含 NUL 字符。")),
]


class Unprocessable(exceptions.ValidationError):
    """A schema-valid request a business rule refused (422), keyed by field like a ValidationError."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


def message_in_chinese(text: str) -> str:
    for pattern, replace in _REWRITES:
        match = pattern.match(text)
        if match:
            return replace(match)
    return text


def error_items(detail, field: str = "") -> list[dict]:
    """DRF's nested error detail as a flat list of {field, code, message}; fields joined by dots."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "detail") else str(key)
            items += error_items(value, f"{field}.{name}" if field and name else field or name)
        return items
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [item for entry in detail for item in error_items(entry, field)]
        # A list of nested objects (order lines): each position is part of the field's name.
        items = []
        for index, value in enumerate(detail):
            items += error_items(value, f"{field}.{index}" if field else str(index))
        return items
    code = getattr(detail, "code", None) or "invalid"
    # Messages quote the input ("“x” 不是合法选项"): what UTF-8 cannot encode must not reach the renderer.
    return [{"field": utf8_safe(field), "code": code, "message": utf8_safe(message_in_chinese(str(detail)))}]


def is_rule_error(items: list[dict]) -> bool:
    return bool(items) and all(item["code"] in RULE_CODES for item in items)


def summary_message(items: list[dict]) -> str:
    first = items[0]
    message = f"{first['field']}：{first['message']}" if first["field"] else first["message"]
    if len(items) > 1:
        message += _("（共 %(n)d 处错误，见 errors）") % {"n": len(items)}
    return message


def error_body(*, code: str, items: list[dict], message: str = "") -> dict:
    return {"code": code, "message": message or summary_message(items), "errors": items}


def batch_response(*, body: dict, results: list[dict], collection: str) -> Response:
    """A batch's answer: 200 when anything was stored; else the one error shape with every item's
    errors (fields as `<collection>.<index>.<field>`) beside the per-item results, 422 or 400."""
    if body["summary"]["error"] < len(results):
        return Response(body, status=status.HTTP_200_OK)
    items = [
        {**error, "field": ".".join(filter(None, [collection, str(result["index"]), error["field"]]))}
        for result in results
        for error in result["errors"]
    ]
    rule = is_rule_error(items)
    failed = error_body(code="unprocessable" if rule else "invalid", items=items)
    return Response({**failed, **body}, status=422 if rule else 400)


def exception_handler(exc, context):
    # Django's own 404 and 403 become DRF's, as drf_exception_handler does, so both have codes.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a 500: scrm.api.views.server_error answers it as JSON
    if isinstance(exc, exceptions.ValidationError):
        items = error_items(exc.detail)
        rule = isinstance(exc, Unprocessable) or is_rule_error(items)
        response.status_code = 422 if rule else 400
        response.data = error_body(code="unprocessable" if rule else "invalid", items=items)
    else:
        message = message_in_chinese(str(exc.detail)) if isinstance(exc.detail, str) else _("请求失败。")
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        response.data = error_body(code=code, items=[], message=message)
    return response


def not_found(request, path: str = "") -> JsonResponse:
    """Every unknown path under /api/ answers JSON, whatever the method: clients parse every answer."""
    message = _("没有这个接口：%(method)s %(path)s") % {"method": request.method, "path": request.path}
    return JsonResponse(error_body(code="not_found", items=[], message=message), status=404)


def server_error(request) -> HttpResponse:
    """handler500: JSON for the API, the Chinese error page everywhere else."""
    if request.path.startswith("/api/"):
        body = error_body(code="server_error", items=[], message=_("服务器内部错误，请稍后重试。"))
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
