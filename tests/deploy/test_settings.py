"""Production choices made by environment variables alone: storage, logs, Sentry, Celery queues."""

import json
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.deploy.envreads import GUNICORN_CONF, SETTINGS, run_with


def _settings(tmp_path, **env):
    base = {"VAR_DIR": str(tmp_path), "DEBUG": "false", "SECRET_KEY": "x" * 50, "WECOM_SIMULATOR": "false"}
    return run_with(SETTINGS, {**base, **env})[0]


def test_media_on_cos_through_its_s3_endpoint(tmp_path):
    settings = _settings(
        tmp_path,
        STORAGE_BACKEND="s3",
        S3_BUCKET="media-125",
        S3_ENDPOINT_URL="https://cos.ap-shanghai.myqcloud.com",
        S3_CUSTOM_DOMAIN="media.example.com",
    )
    default = settings["STORAGES"]["default"]
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    assert default["OPTIONS"]["bucket_name"] == "media-125"
    assert default["OPTIONS"]["endpoint_url"] == "https://cos.ap-shanghai.myqcloud.com"
    assert default["OPTIONS"]["querystring_auth"] is False  # cards need lasting URLs
    assert settings["SERVE_MEDIA"] is False


def test_local_media_by_default(tmp_path):
    settings = _settings(tmp_path)
    assert settings["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert settings["SERVE_MEDIA"] is True


def test_a_mistyped_choice_stops_the_start(tmp_path):
    with pytest.raises(ImproperlyConfigured):
        _settings(tmp_path, STORAGE_BACKEND="cos")
    with pytest.raises(ImproperlyConfigured):
        _settings(tmp_path, LOG_FORMAT="xml")


def test_json_logs_for_cls(tmp_path):
    assert _settings(tmp_path, LOG_FORMAT="json")["LOGGING"]["handlers"]["console"]["formatter"] == "json"


def test_sentry_only_with_a_dsn_and_without_personal_data(tmp_path):
    init = mock.Mock()
    run_with(SETTINGS, {"VAR_DIR": str(tmp_path)}, sentry_init=init)
    init.assert_not_called()
    run_with(SETTINGS, {"VAR_DIR": str(tmp_path), "SENTRY_DSN": "https://k@sentry.example.com/1"}, sentry_init=init)
    init.assert_called_once()
    assert init.call_args.kwargs["dsn"] == "https://k@sentry.example.com/1"
    assert init.call_args.kwargs["send_default_pii"] is False


def test_broker_and_cache_on_separate_redis(tmp_path):
    settings = _settings(tmp_path, REDIS_URL="redis://broker:6379/0", CACHE_REDIS_URL="redis://cache:6379/0")
    assert settings["CELERY_BROKER_URL"] == "redis://broker:6379/0"
    assert settings["CACHES"]["default"]["LOCATION"] == "redis://cache:6379/0"
    same = _settings(tmp_path, REDIS_URL="redis://one:6379/0")
    assert same["CACHES"]["default"]["LOCATION"] == "redis://one:6379/0"


def test_gunicorn_logs_access_with_the_request_id(tmp_path):
    text, _ = run_with(GUNICORN_CONF, {})
    assert "%({x-request-id}o)s" in text["access_log_format"] and text["accesslog"] == "-"
    as_json, _ = run_with(GUNICORN_CONF, {"LOG_FORMAT": "json", "GUNICORN_WORKERS": "3"})
    assert as_json["workers"] == 3
    sample = as_json["access_log_format"] % {
        "t": "[05/Dec/2026:10:00:00 +0800]",
        "{x-request-id}o": "abc",
        "h": "10.0.0.1",
        "m": "GET",
        "U": "/healthz",
        "s": "200",
        "B": "12",
        "L": "0.003",
    }
    assert json.loads(sample)["request_id"] == "abc"


def test_gunicorn_clears_the_metrics_directory_at_start(tmp_path, monkeypatch):
    conf, _ = run_with(GUNICORN_CONF, {})
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"old")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    conf["on_starting"](server=None)
    assert directory.is_dir() and not list(directory.iterdir())


def test_postgresql_connections_persist_with_health_checks_unless_told_otherwise(tmp_path):
    database = _settings(tmp_path, DATABASE_URL="postgres://scrm@db:5432/scrm")["DATABASES"]["default"]
    assert database["CONN_MAX_AGE"] is None
    assert database["CONN_HEALTH_CHECKS"] is True
    limited = _settings(tmp_path, DATABASE_URL="postgres://scrm@db:5432/scrm", DB_CONN_MAX_AGE="300")
    assert limited["DATABASES"]["default"]["CONN_MAX_AGE"] == 300


def test_pgbouncer_transaction_pooling_turns_off_what_outlives_a_transaction(tmp_path):
    settings = _settings(
        tmp_path,
        DATABASE_URL="postgres://scrm@pgbouncer:6432/scrm",
        PGBOUNCER_TRANSACTION_POOLING="true",
        DB_CONN_MAX_AGE="0",
    )
    database = settings["DATABASES"]["default"]
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert database["OPTIONS"]["prepare_threshold"] is None
    assert database["CONN_MAX_AGE"] == 0


def test_a_replica_serves_the_console_figures_only(tmp_path, monkeypatch):
    from django.db import connections

    from scrm.analytics.models import GuideDay
    from scrm.customers.models import Customer
    from scrm.db_router import ReplicaRouter

    settings = _settings(
        tmp_path,
        DATABASE_URL="postgres://scrm@primary:5432/scrm",
        DATABASE_REPLICA_URL="postgres://scrm@replica:5432/scrm",
    )
    assert settings["DATABASES"]["replica"]["HOST"] == "replica"
    assert settings["DATABASE_ROUTERS"] == ["scrm.db_router.ReplicaRouter"]
    assert "DATABASE_ROUTERS" not in _settings(tmp_path)

    router = ReplicaRouter()
    assert router.db_for_read(GuideDay) == "replica"
    assert router.db_for_read(Customer) is None
    assert router.db_for_write(GuideDay) == "default"
    assert router.allow_migrate("replica", "analytics") is False
    monkeypatch.setattr(connections["default"], "in_atomic_block", True)
    assert router.db_for_read(GuideDay) is None  # a rollup being rewritten reads its own writes


def test_the_worker_starts_with_a_metrics_directory_that_does_not_exist_yet(tmp_path):
    """The Celery app imports the metrics at once; the worker's own directory is made on the spot."""
    import os
    import subprocess
    import sys

    directory = tmp_path / "prometheus-worker"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", "import scrm.celery"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert directory.is_dir()
