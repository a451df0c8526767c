"""/readyz and /metrics, including a callback and a tag push that wait longer and longer."""

import datetime as dt

import pytest
from django.utils import timezone

from scrm.observe.metrics import BACKLOG_READERS
from scrm.wecom import api
from scrm.wecom.models import CallbackInbox, TagOutbox

pytestmark = pytest.mark.django_db
TOKEN = "s3cret-metrics-token"


@pytest.fixture(autouse=True)
def _no_redis(settings):
    # Probes read these settings per request; Redis itself is covered by the CI stage.
    settings.REDIS_URL = ""
    settings.CACHE_REDIS_URL = ""


@pytest.fixture
def later(monkeypatch):
    """later(minutes): the probes (and metrics) see the clock that many minutes ahead."""

    start = timezone.now()

    def advance(minutes: float) -> None:
        moved = start + dt.timedelta(minutes=minutes)
        monkeypatch.setattr("scrm.wecom.selectors.timezone.now", lambda: moved)

    return advance


def _pending_callback():
    return CallbackInbox.objects.create(key="k1", event="change_external_contact", payload={})


def test_readyz_is_ok_with_nothing_waiting(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["callback_inbox"] == {"status": "ok", "pending": 0, "oldest_age": 0, "max_age": 600}


def test_a_callback_nobody_processes_makes_readyz_fail_once_too_old(client, settings, later):
    settings.READYZ_INBOX_MAX_AGE = 600
    _pending_callback()

    later(5)
    assert client.get("/readyz").status_code == 200

    later(11)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["callback_inbox"]["status"] == "too old"
    assert body["callback_inbox"]["pending"] == 1
    assert 650 <= body["callback_inbox"]["oldest_age"] <= 670


def test_a_stuck_tag_push_makes_readyz_fail_after_its_own_threshold(client, settings, later):
    settings.READYZ_OUTBOX_MAX_AGE = 3600
    TagOutbox.objects.create(userid="g1", external_userid="wm1", add_tag_ids=[1])

    later(30)
    assert client.get("/readyz").status_code == 200
    later(61)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["tag_outbox"]["status"] == "too old"


def test_processed_rows_do_not_count(client, later):
    CallbackInbox.objects.create(key="k2", status=CallbackInbox.Status.DONE, payload={})
    later(120)
    assert client.get("/readyz").status_code == 200


def test_readyz_fails_when_the_database_does(client, monkeypatch):
    monkeypatch.setattr("scrm.health._check_database", lambda: "error: OperationalError")
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["database"] == "error: OperationalError"


def test_readyz_reports_an_unreachable_broker(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["broker"].startswith("error")


# --- /metrics -----------------------------------------------------------------------------------


def _scrape(client):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return response.content.decode()


def test_metrics_do_not_exist_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


def test_metrics_refuse_a_missing_or_wrong_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 403


def test_metrics_show_latency_per_view_and_an_aging_backlog(client, settings, later):
    settings.METRICS_TOKEN = TOKEN
    client.get("/healthz")
    _pending_callback()
    later(7)

    text = _scrape(client)

    assert 'scrm_http_request_duration_seconds_count{method="GET",status="2xx",view="healthz"}' in text
    assert 'scrm_backlog_pending{queue="callback_inbox"} 1.0' in text
    assert 'scrm_backlog_pending{queue="tag_outbox"} 0.0' in text
    age = float(text.split('scrm_backlog_oldest_age_seconds{queue="callback_inbox"} ')[1].split()[0])
    assert 415 <= age <= 430
    assert "scrm_wecom_welcome_messages_late_total" in text


def test_metrics_count_wecom_calls_and_errors_by_errcode(client, settings, wecom_sim):
    settings.METRICS_TOKEN = TOKEN
    wecom_sim.member_add(userid="guide_m", name="导购")
    api.user_get("guide_m")
    wecom_sim.fault_inject(path="user/get", errcode=60020, times=1)
    with pytest.raises(api.WeComError):
        api.user_get("guide_m")

    text = _scrape(client)

    assert 'scrm_wecom_api_calls_total{endpoint="user/get",errcode="0"}' in text
    assert 'scrm_wecom_api_calls_total{endpoint="user/get",errcode="60020"}' in text
    assert 'scrm_wecom_api_calls_total{endpoint="gettoken",errcode="0"}' in text


def test_metrics_show_celery_queue_depths_from_redis(client, settings):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/9"
    try:
        connection = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        connection.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.METRICS_TOKEN = TOKEN
    settings.REDIS_URL = url
    connection.delete("slow", "slow\x06\x163")
    connection.rpush("slow", "a", "b")
    connection.rpush("slow\x06\x163", "c")
    try:
        text = _scrape(client)
    finally:
        connection.delete("slow", "slow\x06\x163")
    assert 'scrm_celery_queue_length{queue="slow"} 3.0' in text


def test_probes_answer_by_the_nodes_address_other_pages_do_not(client, settings):
    settings.ALLOWED_HOSTS = ["scrm.example.com"]
    settings.SECURE_SSL_REDIRECT = True  # and over plain http, from inside the network
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/healthz", HTTP_HOST="10.0.0.12:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.0.12:8000").status_code == 200
    assert client.get("/metrics", HTTP_HOST="10.0.0.12:8000", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert client.get("/sidebar/", HTTP_HOST="10.0.0.12:8000").status_code == 400
    assert 'view="readyz"' in _scrape(client)


def test_metrics_still_answer_when_the_database_does_not(client, settings, monkeypatch):
    from django.db import OperationalError

    def down(**_kwargs):
        raise OperationalError("no database")

    settings.METRICS_TOKEN = TOKEN
    monkeypatch.setitem(BACKLOG_READERS, "callback_inbox", down)
    text = _scrape(client)
    assert "scrm_http_request_duration_seconds" in text and "scrm_backlog_pending{" not in text


def test_a_celery_worker_serves_its_own_metrics_when_a_port_is_set(settings, monkeypatch):
    from celery import Celery, signals

    served = []
    monkeypatch.setattr("scrm.observe.metrics.worker_metrics_serve", lambda **kwargs: served.append(kwargs))
    # A worker of another app: Celery's Django fixup leaves it alone, so this test's database stays as it is.
    worker = type("OtherWorker", (), {"app": Celery("other", set_as_current=False)})()
    settings.CELERY_METRICS_PORT, settings.CELERY_METRICS_ADDR = 0, "127.0.0.1"
    signals.worker_init.send(sender=worker)
    settings.CELERY_METRICS_PORT = 9808
    signals.worker_init.send(sender=worker)

    assert served == [{"port": 9808, "addr": "127.0.0.1"}]
