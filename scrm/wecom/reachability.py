"""Is WeCom answering? Every WeCom call, from any web or worker process, is counted in the shared cache
per minute (calls, and failures that mean WeCom or the way to it is unwell), so /readyz can say
"WeCom failing" during a short outage that the inbox's age would show only ten minutes later.

One error never flips it: failing needs at least READYZ_WECOM_MIN_FAILURES failures in the last
READYZ_WECOM_WINDOW seconds and no more successes than failures. A refusal about one customer (84061,
40096: WeCom answered) is a call, not a failure; an untrusted server IP (60020) is one, as it fails all.
"""

import time

from django.conf import settings
from django.core.cache import cache

from scrm.wecom import errors

UNWELL = (errors.RETRYABLE_ERRCODES - errors.TOKEN_ERRCODES) | {
    errors.TIMEOUT,
    errors.CONNECTION,
    errors.HTTP_STATUS,
    errors.BAD_RESPONSE,
    *errors.ADMIN_ACTIONS,
}
PREFIX = "wecom:reach:"
BUCKET = 60  # seconds per counter


def _now() -> float:
    return time.time()


def _bump(key: str, ttl: int) -> None:
    try:
        cache.incr(key)
    except ValueError:  # the minute's first call (or the cache is down: then nobody counts)
        if not cache.add(key, 1, ttl):
            try:
                cache.incr(key)
            except ValueError:
                pass


def wecom_call_count(*, endpoint: str, errcode: int) -> None:
    """Count one finished WeCom call (errcode 0 = success)."""
    now = _now()
    ttl = settings.READYZ_WECOM_WINDOW + 2 * BUCKET
    minute = int(now // BUCKET)
    failed = errcode in UNWELL
    _bump(f"{PREFIX}{minute}:{'failed' if failed else 'calls'}", ttl)
    if failed:
        cache.set(f"{PREFIX}last", {"at": now, "endpoint": endpoint, "errcode": errcode}, ttl)


def wecom_reachability() -> dict:
    """What /readyz reports about WeCom over the last window."""
    now = _now()
    window = settings.READYZ_WECOM_WINDOW
    minutes = range(int((now - window) // BUCKET) + 1, int(now // BUCKET) + 1)
    keys = [f"{PREFIX}{m}:{kind}" for m in minutes for kind in ("calls", "failed")]
    counts = cache.get_many(keys)
    failed = sum(int(v) for k, v in counts.items() if k.endswith(":failed"))
    succeeded = sum(int(v) for k, v in counts.items() if k.endswith(":calls"))
    failing = failed >= settings.READYZ_WECOM_MIN_FAILURES and failed >= succeeded
    body = {"status": "failing" if failing else "ok", "calls": failed + succeeded, "failed": failed, "window": window}
    last = cache.get(f"{PREFIX}last")
    if last and now - last["at"] <= window:
        body["last_error"] = f"{last['errcode']} {last['endpoint']} {round(now - last['at'])} s ago"
    return body
