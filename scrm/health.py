"""Probes. /healthz: this process answers and reaches its stores (the load balancer's check).
/readyz: the whole pipeline keeps up: database, Redis (broker and cache), no WeCom callback or tag
push waiting longer than its threshold (a stopped worker shows here first; alert on it), and WeCom
answering (failing after a few failed calls in five minutes, never for a single one)."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.urls import resolve
from django.views.decorators.cache import never_cache

from scrm.wecom.reachability import wecom_reachability
from scrm.wecom.selectors import inbox_backlog, outbox_backlog


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any driver error means unhealthy
        return f"error: {exc.__class__.__name__}"


def _check_redis(url: str, *, unset: str) -> str:
    if not url:
        return unset
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def _check_broker() -> str:
    return _check_redis(settings.REDIS_URL, unset="eager")  # no broker configured: tasks run inline


HEALTHY = ("ok", "eager", "local")


@never_cache
def healthz(request):
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value in HEALTHY for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


def _backlog_check(backlog, max_age: int) -> dict:
    status = "ok" if backlog.oldest_age <= max_age else "too old"
    return {"status": status, "pending": backlog.pending, "oldest_age": round(backlog.oldest_age), "max_age": max_age}


@never_cache
def readyz(request):
    checks = {
        "database": _check_database(),
        "broker": _check_broker(),
        "cache": _check_redis(settings.CACHE_REDIS_URL, unset="local"),
    }
    backlogs = {}
    if checks["database"] == "ok":
        backlogs = {
            "callback_inbox": _backlog_check(inbox_backlog(), settings.READYZ_INBOX_MAX_AGE),
            "tag_outbox": _backlog_check(outbox_backlog(), settings.READYZ_OUTBOX_MAX_AGE),
        }
    wecom = wecom_reachability()
    healthy = all(value in HEALTHY for value in checks.values()) and all(b["status"] == "ok" for b in backlogs.values())
    healthy = healthy and wecom["status"] == "ok"
    body = {"status": "ok" if healthy else "error", **checks, **backlogs, "wecom": wecom}
    return JsonResponse(body, status=200 if healthy else 503)


# Load balancers, Docker and Prometheus call these by the node's address, which is in no ALLOWED_HOSTS:
# answered before the middleware that validates the Host header (and redirects to https).
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def probe_middleware(get_response):
    def middleware(request):
        if request.path_info in PROBE_PATHS:
            match = resolve(request.path_info)
            request.resolver_match = match  # the latency metric is labelled by view as for any request
            return match.func(request, *match.args, **match.kwargs)
        return get_response(request)

    return middleware
