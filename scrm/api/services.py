"""Writes of the API app: API keys."""

import datetime as dt
import hashlib
import hmac
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from scrm.api.models import ApiKey, ApiScope

# last_used_at is a hint for admins; writing it on every request would add a write to every read.
LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


def _hash(secret: str) -> str:
    # Keys are 256-bit random, so a plain digest is enough; no slow password hash is needed.
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, name: str, scope: str = ApiScope.READ) -> tuple[ApiKey, str]:
    """A new key and its clear text, which is never stored and cannot be shown again."""
    if scope not in ApiScope.values:
        raise ValueError(f"unknown scope {scope!r}")
    for _attempt in range(5):
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(name=name.strip()[:100], prefix=prefix, key_hash=_hash(secret), scope=scope)
        except IntegrityError:
            continue  # prefix collision: draw again
        return key, f"{prefix}.{secret}"
    raise RuntimeError("could not draw a unique API key prefix")


def api_key_check(*, raw: str) -> ApiKey | None:
    """The active key whose clear text is `raw`, or None. Marks it used."""
    prefix, dot, secret = (raw or "").strip().partition(".")
    if not dot or not prefix or not secret:
        return None
    key = ApiKey.objects.filter(prefix=prefix, active=True).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(secret)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_GRANULARITY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
