"""The API's JSON parser: DRF's, with Chinese messages and no 500 on absurdly nested input."""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON 嵌套层级过深。")) from None
        except ParseError as exc:
            # DRF's "JSON parse error - <where>": keep the position, say the rest in Chinese.
            where = str(exc.detail).removeprefix("JSON parse error - ")
            raise ParseError(_("请求体不是合法的 JSON：%(where)s") % {"where": where}) from None
