"""What drf-spectacular cannot infer: the error answers of every operation, and the identity objects' limits.

Registered as a postprocessing hook, so the schema a client generates code from says every status
the API can answer and the one error shape behind all of them (scrm.api.exceptions).
"""

ERROR = {
    "type": "object",
    "required": ["code", "message", "errors"],
    "properties": {
        "code": {
            "type": "string",
            "description": "invalid（400）、unprocessable（422）、not_authenticated、authentication_failed、"
            "permission_denied、not_found、method_not_allowed、not_acceptable、unsupported_media_type、"
            "throttled、parse_error、server_error",
        },
        "message": {"type": "string", "description": "中文说明，可直接展示或记录"},
        # ApiErrorItem is scrm.api.events.ApiErrorItemSerializer's component.
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ApiErrorItem"}},
    },
}
# A batch whose every item failed answers the error shape plus the per-item results.
EVENT_BATCH_ERROR = {
    "allOf": [
        {"$ref": "#/components/schemas/ApiError"},
        {
            "type": "object",
            "properties": {
                "source": {"type": "string"},
                "summary": {"$ref": "#/components/schemas/EventSummary"},
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/EventResult"}},
            },
        },
    ]
}
DESCRIPTIONS = {
    "400": "请求不符合接口定义（字段类型、格式、长度、枚举），errors 按字段说明",
    "401": "缺少或无效的 API 密钥",
    "403": "密钥权限不足（只读密钥不能写入）",
    "404": "资源或接口不存在",
    "406": "不支持 Accept 请求头要求的格式（只提供 JSON）",
    "415": "请求体不是 JSON（Content-Type 应为 application/json）",
    "422": "格式正确，但业务规则不允许（如门店编码不存在、退款大于实付、占位值身份）",
    "429": "请求过于频繁，按 Retry-After 秒数后重试",
}


# OpenAPI links: where one answer gives the id another operation takes. Clients (and schemathesis'
# stateful phase) follow them: identify a customer, then read the portrait of the id it answered.
LINKS = {
    ("customers_identify_create", ("200", "201")): {
        "ReadPortrait": ("customers_retrieve", {"customer_id": "$response.body#/id"}),
    },
    ("orders_update", ("200", "201")): {
        "ReadBuyer": ("customers_retrieve", {"customer_id": "$response.body#/order/customer_id"}),
    },
    ("events_create", ("200",)): {
        "ReadFirstCustomer": ("customers_retrieve", {"customer_id": "$response.body#/results/0/customer_id"}),
    },
    ("materials_list", ("200",)): {
        "ReadFirstMaterial": ("materials_retrieve", {"id": "$response.body#/results/0/id"}),
    },
}


def _add_links(operation: dict) -> None:
    for (operation_id, statuses), links in LINKS.items():
        if operation["operationId"] != operation_id:
            continue
        for status in statuses:
            response = operation["responses"].get(status)
            if response is not None:
                response["links"] = {
                    name: {"operationId": target, "parameters": parameters}
                    for name, (target, parameters) in links.items()
                }


def _error_statuses(method: str, operation: dict) -> list[str]:
    statuses = ["401", "403", "406", "429"]
    if operation.get("parameters") or method in ("post", "put", "patch"):
        statuses.append("400")
    if method in ("post", "put", "patch"):
        statuses += ["415", "422"]
    if any(p["in"] == "path" for p in operation.get("parameters", [])) or operation["operationId"].endswith("_list"):
        statuses.append("404")  # an unknown id; for lists, a tampered page cursor
    return statuses


def error_responses(result, generator, request, public):
    """Postprocessing hook: document every error status with the one error shape."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ApiError"] = ERROR
    schemas["EventBatchError"] = EVENT_BATCH_ERROR
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            _add_links(operation)
            for code in _error_statuses(method, operation):
                ref = "EventBatchError" if path.endswith("/events") and code in ("400", "422") else "ApiError"
                responses[code] = {
                    "description": DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
                }
    for name, limits in (("Identities", {"minProperties": 1}), ("BuyerIdentities", {})):
        if name in schemas:
            # Unknown identity kinds are refused, and a customer needs at least one identity.
            schemas[name].update(additionalProperties=False, **limits)
    return result
