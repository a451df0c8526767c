"""Content-Security-Policy (django-csp) with framing decided by the area a URL belongs to.

The sidebar opens inside WeCom's client (and, in dev, inside /dev/chat/'s iframe), so it may be framed
by our own origin and WeCom's; the console and admin never may. Everything else keeps SAMEORIGIN.
"""

from csp.constants import NONE, SELF
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

NEVER_FRAMED = ("/console/", "/admin/")
FRAMED_BY_WECOM = ("/sidebar/",)


class AreaCSPMiddleware(CSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        path = request.path_info
        if path.startswith(NEVER_FRAMED):
            response.setdefault("X-Frame-Options", "DENY")
        elif path.startswith(FRAMED_BY_WECOM):
            # Older webviews without frame-ancestors support would otherwise refuse WeCom's frame.
            response.xframe_options_exempt = True
        return super().process_response(request, response)

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        path = request.path_info
        if path.startswith(NEVER_FRAMED):
            ancestors = [NONE]
        elif path.startswith(FRAMED_BY_WECOM):
            ancestors = [SELF, *settings.WECOM_FRAME_ANCESTORS]
        else:
            ancestors = [SELF]
        parts.replace = {**(parts.replace or {}), "frame-ancestors": ancestors}
        return parts
