"""DRF's error answers with the few messages its Chinese catalog lacks said in Chinese."""

import re

from django.utils.translation import gettext as _
from rest_framework.views import exception_handler as drf_exception_handler

# English DRF/Django messages that reach API clients untranslated, and what to say instead.
_REWRITES = [
    (re.compile(r"^No data provided\.?$"), lambda m: _("请求体为空，请提交 JSON 数据。")),
    (re.compile(r"^CSRF Failed: .*"), lambda m: _("CSRF 校验失败：请刷新页面后重试，系统对接请使用 API 密钥。")),
    (re.compile(r"^No .+ matches the given query\.$"), lambda m: _("未找到。")),
    (re.compile(r"^(Null characters are not allowed\.|不允许是用空字符串。)$"), lambda m: _("不能包含 NUL 字符。")),
]


def messages_in_chinese(value):
    """An error body (dict / list / str) with the English messages above rewritten."""
    if isinstance(value, dict):
        return {key: messages_in_chinese(item) for key, item in value.items()}
    if isinstance(value, list):
        return [messages_in_chinese(item) for item in value]
    if isinstance(value, str):
        for pattern, replace in _REWRITES:
            match = pattern.match(value)
            if match:
                return replace(match)
    return value


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = messages_in_chinese(response.data)
    return response
