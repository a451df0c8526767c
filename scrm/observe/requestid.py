"""One id per request, on every log line it causes: in the web process, in the Celery tasks it queues
and in the WeCom calls those make.

The load balancer's X-Request-ID is kept when it looks like an id (CLB and nginx can set one), else we
make one; it goes back in the response header and, as a task header, to the worker.
"""

import contextvars
import json
import logging
import re
import uuid

from celery import signals

HEADER = "HTTP_X_REQUEST_ID"
RESPONSE_HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
# Anything else from a client is replaced, so logs never carry injected text.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
NO_ID = "-"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default=NO_ID)


def request_id_get() -> str:
    return _current.get()


def request_id_set(value: str | None) -> contextvars.Token:
    return _current.set(value or NO_ID)


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_from_header(value: str | None) -> str:
    return value if value and _VALID.match(value) else request_id_new()


def request_id_middleware(get_response):
    def middleware(request):
        request.request_id = request_id_from_header(request.META.get(HEADER))
        token = request_id_set(request.request_id)
        try:
            response = get_response(request)
            response[RESPONSE_HEADER] = request.request_id
            return response
        finally:
            _current.reset(token)

    return middleware


# --- logging ----------------------------------------------------------------------------------


def _install_record_factory() -> None:
    # A record factory, not a handler filter: every record gets the id, whichever handler (ours, Celery's,
    # gunicorn's error log, pytest's caplog) ends up formatting it.
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = _current.get()
        return record

    factory.adds_request_id = True
    logging.setLogRecordFactory(factory)


_install_record_factory()


class RequestIdFilter(logging.Filter):
    """For records made without the factory (logging.makeLogRecord, unpickled ones): never a KeyError."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json), the shape CLS and other log services index."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", NO_ID),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


# --- Celery -----------------------------------------------------------------------------------


@signals.before_task_publish.connect
def _task_publish(headers=None, **_kwargs):
    # The message header travels with the task; the worker reads it back in _task_start.
    rid = _current.get()
    if headers is not None and rid != NO_ID and not headers.get(TASK_HEADER):
        headers[TASK_HEADER] = rid


_task_tokens: dict[str, contextvars.Token] = {}


@signals.task_prerun.connect
def _task_start(task_id=None, task=None, **_kwargs):
    request = getattr(task, "request", None)
    if request is None:
        return
    # A worker puts custom message headers on the request itself; an inline apply() under `headers`.
    rid = getattr(request, TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    if not rid and getattr(request, "is_eager", False):
        return  # inline (dev without Redis, tests): already inside whatever queued it
    # A beat-scheduled task has no request behind it: give its run an id of its own.
    _task_tokens[task_id] = request_id_set(rid if rid and _VALID.match(rid) else request_id_new())


@signals.task_postrun.connect
def _task_end(task_id=None, **_kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _current.reset(token)
