from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any driver error means unhealthy
        return f"error: {exc.__class__.__name__}"


def _check_broker() -> str:
    if not settings.REDIS_URL:
        return "eager"  # no broker configured: tasks run inline
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


@never_cache
def healthz(request):
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value in ("ok", "eager") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)
