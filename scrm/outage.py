"""PostgreSQL unreachable: a short "try again" answer (503 + Retry-After), never Django's 500 page.

A stopped, restarting or failing-over database raises OperationalError (no connection, terminated
session) or InterfaceError (a connection already closed) from wherever the request first touches it.
Views' errors are caught by the middleware (logged once as a warning, not as a crash); errors raised
in other middleware (a session saved on the way out) reach handler500, which answers the same way.
WeCom retries a callback that is not answered 200, a brand's client retries a 503, and a person reads
「系统正在恢复」 instead of an error page.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

from scrm.api.exceptions import error_body, server_error

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 10  # a restart or failover takes seconds; clients back off at least this long
DATABASE_ERRORS = (OperationalError, InterfaceError)
MACHINE_PATHS = ("/api/", "/wecom/")  # callers that parse the answer (brand systems, WeCom)


def _wants_json(request: HttpRequest) -> bool:
    if request.path.startswith(MACHINE_PATHS) or request.headers.get("HX-Request") == "true":
        return True
    return "text/html" not in request.headers.get("Accept", "")  # fetch() from our pages, scripts


def database_unavailable(request: HttpRequest) -> HttpResponse:
    message = _("系统正在恢复，请稍后重试。")
    if _wants_json(request):
        body = error_body(code="unavailable", items=[], message=message)
        response = JsonResponse({**body, "error": message}, status=503)  # `error`: what the sidebar's JS reads
    else:
        # No request context: the context processors would query the database that is gone.
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        logger.warning("database unavailable on %s %s: %s", request.method, request.path, exception)
        return database_unavailable(request)


def server_error_or_outage(request: HttpRequest) -> HttpResponse:
    """handler500: an outage met outside a view answers 503 too; anything else is a real 500."""
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return database_unavailable(request)
    return server_error(request)
