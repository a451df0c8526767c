"""A request id from the load balancer (or ours) on every log line: the request's, its Celery task's,
and the WeCom calls that task makes."""

import json
import logging
from urllib.parse import urlencode

import pytest
from kombu import Connection

from scrm.celery import app as celery_app
from scrm.observe.requestid import JsonFormatter, request_id_get, request_id_set
from scrm.wecom import tasks
from scrm.wecom.models import CallbackInbox
from scrm.wecom.simulator.callbacks import callback_build, contact_event

RID = "lb-4f2a9c0e7b1d4e55"


def test_the_load_balancers_id_is_kept_and_returned(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=RID)
    assert response["X-Request-ID"] == RID


def test_without_one_or_with_junk_we_make_one(client, db):
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32
    junk = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nINFO forged line")["X-Request-ID"]
    assert "forged" not in junk and len(junk) == 32


def _events(caplog, rid):
    return [(r.name, r.getMessage()) for r in caplog.records if getattr(r, "request_id", None) == rid]


@pytest.mark.django_db(transaction=True)
def test_a_callbacks_request_id_follows_it_into_its_task(client, wecom_sim, caplog):
    """Inline (tests, dev): the task runs inside the request, after commit."""
    wecom_sim.member_add(userid="guide_r", name="导购")
    wecom_sim.follow_add(userid="guide_r", external_userid="wmREQID")
    query, body = callback_build(contact_event("add_external_contact", userid="guide_r", external_userid="wmREQID"))
    caplog.set_level(logging.INFO)

    response = client.post(
        f"/wecom/callback/?{urlencode(query)}", data=body, content_type="text/xml", HTTP_X_REQUEST_ID=RID
    )

    assert response.status_code == 200
    row = CallbackInbox.objects.get()
    assert row.status == CallbackInbox.Status.DONE
    lines = _events(caplog, RID)
    assert ("scrm.wecom.tasks", f"callback inbox {row.pk}: done") in lines
    # The WeCom calls the task made carry the same id.
    assert any(name == "scrm.wecom.client" and "externalcontact/get" in message for name, message in lines)


@pytest.mark.django_db
def test_through_a_broker_the_id_travels_as_a_task_header(caplog):
    """With a worker: published with the id in its headers, run under that id."""
    row = CallbackInbox.objects.create(key="k-rid", status=CallbackInbox.Status.DONE, payload={})
    caplog.set_level(logging.INFO)
    token = request_id_set(RID)
    celery_app.conf.task_always_eager = False
    try:
        with Connection("memory://") as connection:
            with connection.Producer() as producer:
                tasks.process_callback.apply_async(args=[row.pk], producer=producer)
            message = connection.SimpleQueue("fast").get(timeout=1)
    finally:
        celery_app.conf.task_always_eager = True
        request_id_set("-")
        del token
    assert message.headers["request_id"] == RID

    # As the worker runs it: another process, no id in context, only the message's headers.
    assert request_id_get() == "-"
    tasks.process_callback.apply(args=message.payload[0], headers=message.headers)

    assert ("scrm.wecom.tasks", f"callback inbox {row.pk}: done") in _events(caplog, RID)
    assert request_id_get() == "-"  # not leaked into whatever runs next


def test_a_beat_task_without_a_request_gets_an_id_of_its_own(caplog, db):
    caplog.set_level(logging.INFO)
    row = CallbackInbox.objects.create(key="k-beat", status=CallbackInbox.Status.DONE, payload={})
    tasks.process_callback.apply(args=[row.pk], headers={"request_id": "not valid!"})
    (record,) = [r for r in caplog.records if r.name == "scrm.wecom.tasks"]
    assert len(record.request_id) == 32


def test_json_log_lines_carry_time_level_logger_and_request_id():
    record = logging.LogRecord("scrm.x", logging.WARNING, __file__, 1, "客户 %s", ("甲",), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING" and line["logger"] == "scrm.x" and line["message"] == "客户 甲"
    assert line["request_id"] and line["time"]
