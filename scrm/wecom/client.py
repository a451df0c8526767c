"""The one place that builds WeCom API clients.

Tokens and JS-SDK tickets live in Django's cache (Redis in production), so every web and
worker process shares them; a cache.add lock makes exactly one process refresh an expired
value while the others wait briefly for it.
"""

import hashlib
import logging
import re
import time
from collections.abc import Callable
from typing import Literal

import requests
from django.conf import settings
from django.core.cache import cache
from requests.adapters import HTTPAdapter
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from scrm.observe.metrics import wecom_call_record
from scrm.wecom import errors
from scrm.wecom.errors import TOKEN_ERRCODES, WeComError
from scrm.wecom.reachability import wecom_call_count

logger = logging.getLogger(__name__)
HTTP_POOL_SIZE = 32  # kept-alive connections to WeCom per process

ClientKind = Literal["app", "contact"]

# Refresh a little before WeCom's expiry so a token never dies mid-request.
EXPIRY_MARGIN = 300
LOCK_TTL = 15
LOCK_POLL = 0.05
# requests puts the URL, query string included, in its error text: the secret and token must not
# reach logs, last_error columns or the reasons managers read.
_SECRET_PARAMS = re.compile(r"([?&](?:access_token|corpsecret|code)=)[^&#\s'\"()]+")


class DjangoCacheStorage(SessionStorage):
    """wechatpy session storage backed by django.core.cache."""

    def __init__(self, prefix: str = "wecom:") -> None:
        self.prefix = prefix

    def get(self, key, default=None):
        return cache.get(self.prefix + key, default)

    def set(self, key, value, ttl=None):
        # ttl None means "until dropped" (Django's default timeout would silently be 300 s).
        cache.set(self.prefix + key, value, timeout=ttl)

    def delete(self, key):
        cache.delete(self.prefix + key)


class WeComClient(WeChatClient):
    """wechatpy's enterprise client with our base URL, shared token cache and error mapping."""

    def __init__(self, *, kind: ClientKind, corp_id: str, secret: str, api_base: str, timeout: float) -> None:
        # auto_retry off: wechatpy would retry token errors without limit; we retry once.
        super().__init__(corp_id, secret, session=DjangoCacheStorage(), timeout=timeout, auto_retry=False)
        self.kind = kind
        self.API_BASE_URL = api_base if api_base.endswith("/") else api_base + "/"
        # One client serves every thread of a threaded worker (16 on the fast queue): requests' default
        # pool of 10 would close and reopen a connection (a TLS handshake) on most calls under load.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=HTTP_POOL_SIZE)
        self._http.mount("https://", adapter)
        self._http.mount("http://", adapter)

    # --- tokens -------------------------------------------------------------------------------

    @property
    def access_token_key(self) -> str:
        digest = hashlib.sha256(f"{self.corp_id}:{self.secret}".encode()).hexdigest()[:16]
        return f"token:{self.kind}:{digest}"

    @property
    def access_token(self) -> str:
        return self.cached_value(self.access_token_key, self._fetch_token)

    def fetch_access_token(self) -> dict:
        """wechatpy's hook; forces a refresh through the shared cache."""
        self.session.delete(self.access_token_key)
        return {"access_token": self.access_token}

    def drop_access_token(self, stale: str | None = None) -> None:
        # Only drop the token we saw fail: another process may already have stored a new one.
        if stale is None or self.session.get(self.access_token_key) == stale:
            self.session.delete(self.access_token_key)

    def _fetch_token(self) -> tuple[str, int]:
        # wechatpy 1.8.18 hard-codes qyapi.weixin.qq.com here, so gettoken is called directly.
        result = self._raw_get("gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret})
        return result["access_token"], int(result.get("expires_in", 7200))

    def _raw_get(self, endpoint: str, params: dict) -> dict:
        started = time.monotonic()
        try:
            res = self._http.get(self.API_BASE_URL + endpoint, params=params, timeout=self.timeout)
            res.raise_for_status()
            result = res.json()
        except requests.RequestException as exc:
            raise _transport_error(exc, endpoint, started) from exc
        except ValueError as exc:
            raise _logged(_not_json(endpoint), started) from exc
        errcode = int(result.get("errcode", 0))
        if errcode != 0:
            # A rejected corpid/secret stays rejected; only busy/rate-limit answers are worth retrying.
            retryable = errcode in errors.RETRYABLE_ERRCODES - TOKEN_ERRCODES
            raise _logged(WeComError(errcode, result.get("errmsg", ""), retryable, path=endpoint), started)
        _call_done(endpoint, 0, started)
        return result

    def cached_value(self, key: str, fetch: Callable[[], tuple[str, int]]) -> str:
        """Read `key` from the shared cache, or fetch it once under a lock while others wait."""
        value = self.session.get(key)
        if value:
            return value
        lock_key = f"{key}:lock"
        deadline = time.monotonic() + (self.timeout or 5) + 2
        while True:
            if cache.add(self.session.prefix + lock_key, "1", timeout=LOCK_TTL):
                try:
                    value = self.session.get(key)  # refreshed while we were acquiring
                    if value:
                        return value
                    value, expires_in = fetch()
                    self.session.set(key, value, max(expires_in - EXPIRY_MARGIN, 60))
                    return value
                finally:
                    cache.delete(self.session.prefix + lock_key)
            time.sleep(LOCK_POLL)
            value = self.session.get(key)
            if value:
                return value
            if time.monotonic() > deadline:
                raise WeComError(-1, f"timed out waiting for another process to refresh {key}", path=key)

    # --- requests -----------------------------------------------------------------------------

    def _request(self, method, url_or_endpoint, **kwargs):
        path = url_or_endpoint.removeprefix(self.API_BASE_URL)
        params = dict(kwargs.pop("params", None) or {})
        own_token = "access_token" not in params
        for attempt in (1, 2):
            call_kwargs = {**kwargs, "params": dict(params)}
            if own_token:
                call_kwargs["params"]["access_token"] = self.access_token
            started = time.monotonic()
            try:
                result = super()._request(method, url_or_endpoint, **call_kwargs)
            except WeChatClientException as exc:
                if exc.errcode is None:  # non-2xx HTTP status
                    status = getattr(exc.response, "status_code", 0) or 0
                    error = WeComError(errors.HTTP_STATUS, f"HTTP {status}", retryable=status >= 500, path=path)
                    raise _logged(error, started) from exc
                if own_token and attempt == 1 and int(exc.errcode) in TOKEN_ERRCODES:
                    _call_done(path, int(exc.errcode), started)
                    logger.info("wecom %s: token rejected (%s), refreshing once", path, exc.errcode)
                    self.drop_access_token(call_kwargs["params"]["access_token"])
                    _rewind_files(kwargs)
                    continue
                raise _logged(WeComError(exc.errcode, exc.errmsg, path=path), started) from exc
            except requests.RequestException as exc:
                raise _transport_error(exc, path, started) from exc
            if isinstance(result, requests.Response):
                raise _logged(_not_json(path), started)
            _call_done(path, 0, started)
            return result
        raise AssertionError("unreachable")  # pragma: no cover


def _not_json(path: str) -> WeComError:
    # A truncated answer or a proxy's error page is WeCom (or the way to it) being unwell, not a refusal:
    # retried later like a 5xx, so a callback waits in the inbox instead of failing for good.
    return WeComError(errors.BAD_RESPONSE, "response is not JSON", retryable=True, path=path)


def _rewind_files(kwargs: dict) -> None:
    for fileobj in (kwargs.get("files") or {}).values():
        target = fileobj[1] if isinstance(fileobj, tuple) else fileobj
        if hasattr(target, "seek"):
            target.seek(0)


def _transport_error(exc: requests.RequestException, path: str, started: float | None = None) -> WeComError:
    code = errors.TIMEOUT if isinstance(exc, requests.Timeout) else errors.CONNECTION
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status is not None:
        return _logged(WeComError(errors.HTTP_STATUS, f"HTTP {status}", retryable=status >= 500, path=path), started)
    message = _SECRET_PARAMS.sub(r"\1***", f"{type(exc).__name__}: {exc}")
    return _logged(WeComError(code, message, retryable=True, path=path), started)


def _call_done(path: str, errcode: int, started: float) -> None:
    # One line and one sample per WeCom call; the log line carries the request id that caused it.
    seconds = time.monotonic() - started
    wecom_call_record(endpoint=path, errcode=errcode, seconds=seconds)
    wecom_call_count(endpoint=path, errcode=errcode)  # /readyz: is WeCom failing right now?
    logger.info("wecom %s errcode=%s in %.0f ms", path, errcode, seconds * 1000)


def _logged(error: WeComError, started: float | None = None) -> WeComError:
    if started is not None:
        _call_done(error.path, error.errcode, started)
    errors.log_error(error)
    return error


_clients: dict[tuple, WeComClient] = {}


def get_client(kind: ClientKind = "app") -> WeComClient:
    """The client for the app secret ("app") or the customer-contact secret ("contact")."""
    if kind == "app":
        secret = settings.WECOM_SECRET
    elif kind == "contact":
        secret = settings.WECOM_CONTACT_SECRET
    else:
        raise ValueError(f"unknown WeCom client kind {kind!r}")
    key = (kind, settings.WECOM_CORP_ID, secret, settings.WECOM_API_BASE, settings.WECOM_TIMEOUT)
    client = _clients.get(key)
    if client is None:
        # Reused per configuration so the HTTP connection pool is kept; state lives in the cache.
        client = WeComClient(
            kind=kind,
            corp_id=settings.WECOM_CORP_ID,
            secret=secret,
            api_base=settings.WECOM_API_BASE,
            timeout=settings.WECOM_TIMEOUT,
        )
        _clients[key] = client
    return client


def reset_clients() -> None:
    """Close pooled HTTP connections and forget clients (tests; settings changes)."""
    for client in _clients.values():
        client._http.close()
    _clients.clear()
