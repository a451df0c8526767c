"""Prometheus metrics and the token-protected /metrics endpoint.

Counters and histograms are recorded where things happen (requests here, WeCom calls in the client).
Under gunicorn with several workers, and in Celery's worker processes, they go to files in
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode) so one scrape sums every process on
the node. Backlogs and queue depths are read from PostgreSQL and Redis at scrape time: apps register
their backlog readers here (observe is infrastructure and imports no app), and Celery's queues come from
the current Celery app.
"""

import logging
import os
import pathlib
import time
from collections.abc import Callable
from typing import Protocol

from celery import current_app, signals
from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

# prometheus_client opens its per-process files as the metrics below are made, at import: the worker
# imports this with the Celery app, before anything else could create the directory.
if _multiproc_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
    pathlib.Path(_multiproc_dir).mkdir(parents=True, exist_ok=True)

REQUEST_LATENCY = Histogram(
    "scrm_http_request_duration_seconds",
    "Time to answer a request, per view.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WECOM_CALLS = Counter(
    "scrm_wecom_api_calls_total",
    "WeCom server API calls by endpoint and errcode (0 = success; negative = our transport errors).",
    ["endpoint", "errcode"],
)
WECOM_CALL_LATENCY = Histogram(
    "scrm_wecom_api_call_duration_seconds",
    "Time of one WeCom server API call.",
    ["endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# WeCom's welcome_code is valid for 20 s after the add_external_contact callback: a welcome message sent
# later than that fails (41051); scrm.livecodes counts each one here.
WELCOME_LATE = Counter(
    "scrm_wecom_welcome_messages_late_total",
    "Welcome messages that missed WeCom's 20-second welcome_code window.",
)

UNRESOLVED = "<unresolved>"


class Backlog(Protocol):
    pending: int
    oldest_age: float  # seconds the oldest waiting row has waited; 0 when none


# Queue name → reader, filled by the apps' AppConfig.ready (wecom: callback_inbox, tag_outbox).
BACKLOG_READERS: dict[str, Callable[[], Backlog]] = {}


def backlog_register(*, queue: str, read: Callable[[], Backlog]) -> None:
    """Report `read()` as the scrm_backlog_* gauges of `queue` at every scrape."""
    BACKLOG_READERS[queue] = read


def metrics_middleware(get_response):
    def middleware(request):
        started = time.perf_counter()
        response = get_response(request)
        match = getattr(request, "resolver_match", None)
        # The view's name, never the path: paths carry ids and would make a series per customer.
        view = (match.view_name or match.route) if match else UNRESOLVED
        REQUEST_LATENCY.labels(view, request.method, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response

    return middleware


def wecom_call_record(*, endpoint: str, errcode: int, seconds: float) -> None:
    endpoint = endpoint.split("?", 1)[0].strip("/") or "?"
    WECOM_CALLS.labels(endpoint, str(errcode)).inc()
    WECOM_CALL_LATENCY.labels(endpoint).observe(seconds)


def celery_queue_lengths() -> dict[str, int]:
    """Messages waiting in each Celery queue: Redis list lengths (kombu keeps one list per priority)."""
    if not settings.REDIS_URL:
        return {}
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    sep = "\x06\x16"  # kombu's separator between a queue's name and its priority
    lengths = {}
    for queue in current_app.amqp.queues:
        keys = [queue, *(f"{queue}{sep}{priority}" for priority in (3, 6, 9))]
        lengths[queue] = sum(client.llen(key) for key in keys)
    return lengths


class BacklogCollector:
    """Gauges read at scrape time: the registered backlogs (database queues), and Celery's queues."""

    def collect(self):
        pending = GaugeMetricFamily("scrm_backlog_pending", "Rows waiting to be processed.", labels=["queue"])
        oldest = GaugeMetricFamily(
            "scrm_backlog_oldest_age_seconds", "Age of the oldest waiting row (0 when none).", labels=["queue"]
        )
        try:
            for name, read in BACKLOG_READERS.items():
                backlog = read()
                pending.add_metric([name], backlog.pending)
                oldest.add_metric([name], backlog.oldest_age)
            yield pending
            yield oldest
        except DatabaseError as exc:  # the database down: the process's own figures still get scraped
            logger.warning("metrics: backlog unavailable: %s", exc)
        depth = GaugeMetricFamily("scrm_celery_queue_length", "Tasks waiting in a Celery queue.", labels=["queue"])
        try:
            for queue, length in celery_queue_lengths().items():
                depth.add_metric([queue], length)
        except Exception as exc:  # Redis down: the other figures still matter, /readyz says what is wrong
            logger.warning("metrics: celery queue lengths unavailable: %s", exc)
        yield depth


def _registry() -> CollectorRegistry:
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@never_cache
def metrics(request):
    """Prometheus' scrape: `Authorization: Bearer <METRICS_TOKEN>`; without a token set it does not exist."""
    if not settings.METRICS_TOKEN:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not constant_time_compare(given, f"Bearer {settings.METRICS_TOKEN}"):
        return HttpResponseForbidden("forbidden", content_type="text/plain; charset=utf-8")
    backlog = CollectorRegistry()
    backlog.register(BacklogCollector())
    body = generate_latest(_registry()) + generate_latest(backlog)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def multiproc_dir_clear(path: str) -> None:
    """Forget the last run's per-process files (prometheus_client asks for this at every start)."""
    directory = pathlib.Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def worker_metrics_serve(*, port: int, addr: str) -> None:
    """A Celery worker's own /metrics (WeCom calls happen there), on an internal address.

    Each node's worker keeps its own PROMETHEUS_MULTIPROC_DIR: process ids of different containers can
    collide, so web and worker never share one.
    """
    from prometheus_client import start_http_server

    if settings.PROMETHEUS_MULTIPROC_DIR:
        multiproc_dir_clear(settings.PROMETHEUS_MULTIPROC_DIR)
    start_http_server(port, addr=addr, registry=_registry())
    logger.info("worker metrics on %s:%s", addr, port)


@signals.worker_init.connect
def _worker_metrics(**_kwargs):
    # In the worker's main process, before the pool forks: one HTTP server for all its children.
    if settings.CELERY_METRICS_PORT:
        worker_metrics_serve(port=settings.CELERY_METRICS_PORT, addr=settings.CELERY_METRICS_ADDR)
