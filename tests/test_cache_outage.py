"""A Redis outage costs speed, never a page: the cache degrades to none and sessions come from the DB."""

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

# Nothing listens on port 1: every Redis call fails at once, like a killed Redis.
DOWN = "redis://127.0.0.1:1/0"


def _caches(backend: str) -> dict:
    return {"default": {"BACKEND": backend, "LOCATION": DOWN, "OPTIONS": {"socket_connect_timeout": 0.2}}}


def test_the_plain_redis_cache_raises_when_redis_is_down():
    # What the pages used to hit: the reason the resilient backend exists.
    with override_settings(CACHES=_caches("django.core.cache.backends.redis.RedisCache")):
        with pytest.raises(RedisConnectionError):
            caches["default"].get("k")


def test_the_resilient_cache_misses_and_drops_writes():
    with override_settings(CACHES=_caches("scrm.cache.ResilientRedisCache")):
        cache = caches["default"]
        cache.set("k", 1)
        assert cache.get("k", "missing") == "missing"
        assert cache.get_many(["k"]) == {}
        assert cache.add("lock", 1) is True  # a lock nobody else can hold
        cache.delete("k")


@pytest.mark.django_db
def test_signed_in_pages_work_while_redis_is_down(client, guide, followed_customer, manager):
    ext = followed_customer.follow_relations.get(staff=guide).external_userid
    with override_settings(CACHES=_caches("scrm.cache.ResilientRedisCache")):
        client.force_login(guide.user)
        assert client.get(reverse("sidebar:portrait", args=[ext])).status_code == 200
        assert client.get(reverse("sidebar:timeline", args=[ext])).status_code == 200
        assert client.get(reverse("sidebar:materials", args=[ext])).status_code == 200
        client.force_login(manager.user)
        assert client.get(reverse("console:performance")).status_code == 200
