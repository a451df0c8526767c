"""The callback endpoint: WeCom's signature, encryption, freshness and replay rules."""

import datetime as dt
import os
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from scrm.customers.models import Event, FollowRelation
from scrm.wecom import tasks
from scrm.wecom.models import CallbackInbox
from scrm.wecom.simulator.callbacks import callback_build, contact_event, echo_build, tag_event

URL = "/wecom/callback/"

pytestmark = pytest.mark.django_db


def _post(client, query, body):
    return client.post(f"{URL}?{urlencode(query)}", data=body, content_type="text/xml")


@pytest.fixture
def no_processing(monkeypatch):
    """Store-only: the endpoint's job ends at the inbox; processing is tested in test_inbox."""
    dispatched = []
    monkeypatch.setattr(tasks.process_callback, "delay", lambda row_id: dispatched.append(row_id))
    return dispatched


def test_url_verification_answers_the_decrypted_echostr(client):
    response = client.get(URL, echo_build("hello-wecom-123"))

    assert response.status_code == 200
    assert response.content.decode() == "hello-wecom-123"


def test_url_verification_with_a_forged_signature_is_refused(client):
    response = client.get(URL, echo_build("hello", token="not-our-token"))

    assert response.status_code == 403


def test_url_verification_without_parameters_is_refused(client):
    assert client.get(URL).status_code == 403


def test_valid_callback_is_stored_and_answered_success(post_callback, no_processing):
    response = post_callback(contact_event("add_external_contact", userid="g1", external_userid="wmA", State="s1"))

    assert response.status_code == 200
    assert response.content == b"success"
    row = CallbackInbox.objects.get()
    assert (row.event, row.change_type, row.userid, row.external_userid) == (
        "change_external_contact",
        "add_external_contact",
        "g1",
        "wmA",
    )
    assert row.payload["State"] == "s1"
    assert row.status == CallbackInbox.Status.PENDING
    assert no_processing == [row.pk]


def test_forged_signature_is_refused_and_nothing_stored(client, no_processing):
    query, body = callback_build(contact_event("del_follow_user", userid="g1", external_userid="wmA"))
    query["msg_signature"] = "0" * 40

    response = _post(client, query, body)

    assert response.status_code == 403
    assert CallbackInbox.objects.count() == 0
    assert no_processing == []


def test_body_signed_with_another_token_is_refused(client, no_processing):
    query, body = callback_build(contact_event("del_follow_user", userid="g1", external_userid="wmA"), token="evil")

    assert _post(client, query, body).status_code == 403
    assert CallbackInbox.objects.count() == 0


def test_body_encrypted_for_another_corp_is_refused(client, no_processing):
    query, body = callback_build(
        contact_event("del_follow_user", userid="g1", external_userid="wmA"), corp_id="ww_other_corp"
    )

    assert _post(client, query, body).status_code == 403
    assert CallbackInbox.objects.count() == 0


def test_stale_timestamp_is_refused(client, no_processing):
    old = int(time.time()) - 600
    query, body = callback_build(contact_event("del_follow_user", userid="g1", external_userid="wmA"), timestamp=old)

    assert _post(client, query, body).status_code == 403
    assert CallbackInbox.objects.count() == 0


def test_the_same_signed_request_again_is_answered_but_stored_once(client, no_processing):
    """WeCom retries a callback it got no answer to within 5 s; a replay is as harmless."""
    query, body = callback_build(contact_event("del_follow_user", userid="g1", external_userid="wmA"))

    first, again = _post(client, query, body), _post(client, query, body)

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.content == again.content == b"success"
    assert CallbackInbox.objects.count() == 1


def test_redelivered_event_is_a_no_op(post_callback, no_processing):
    event = contact_event("del_follow_user", userid="g1", external_userid="wmA", create_time=1_700_000_000)

    first = post_callback(event)
    second = post_callback(event)  # WeCom's retry: same event, new nonce and signature

    assert first.content == second.content == b"success"
    assert CallbackInbox.objects.count() == 1
    assert len(no_processing) == 1


def test_distinct_events_get_distinct_rows(post_callback, no_processing):
    post_callback(contact_event("add_external_contact", userid="g1", external_userid="wmA", create_time=1))
    post_callback(contact_event("del_follow_user", userid="g1", external_userid="wmA", create_time=2))
    post_callback(tag_event("create", tag_id="etX", create_time=2))

    assert CallbackInbox.objects.count() == 3


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<xml><Encrypt></Encrypt></xml>",
        b"<xml><ToUserName>x</ToUserName></xml>",
        b"<other/>",
        b"\xff\xfe\x00garbage",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>',
    ],
)
def test_garbage_bodies_are_refused_never_500(client, body, no_processing):
    query, _ = callback_build(contact_event("del_follow_user", userid="g1", external_userid="wmA"))

    response = _post(client, query, body)

    assert response.status_code == 403
    assert CallbackInbox.objects.count() == 0


def test_correctly_signed_but_undecryptable_body_is_refused(client, settings, no_processing):
    from wechatpy.crypto import _get_signature

    timestamp, nonce, encrypted = str(int(time.time())), "abc123", "bm90IGVuY3J5cHRlZA=="
    signature = _get_signature(settings.WECOM_CALLBACK_TOKEN, timestamp, nonce, encrypted)
    body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()

    response = _post(client, {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}, body)

    assert response.status_code == 403
    assert CallbackInbox.objects.count() == 0


@pytest.mark.parametrize("timestamp", ["", "soon", "9" * 30])
def test_bad_timestamps_are_refused(client, timestamp, no_processing):
    query, body = callback_build(contact_event("del_follow_user", userid="g1", external_userid="wmA"))
    query["timestamp"] = timestamp

    assert _post(client, query, body).status_code == 403


def test_other_methods_are_not_allowed(client):
    assert client.put(URL).status_code == 405


def test_broker_down_still_answers_success_and_the_sweep_processes_the_row(
    post_callback, monkeypatch, followed_customer, guide
):
    relation = FollowRelation.objects.get(customer=followed_customer)

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis unreachable")

    monkeypatch.setattr(tasks.process_callback, "delay", broker_down)
    response = post_callback(
        contact_event("del_follow_user", userid=guide.userid, external_userid=relation.external_userid)
    )

    assert response.content == b"success"
    row = CallbackInbox.objects.get()
    assert row.status == CallbackInbox.Status.PENDING
    relation.refresh_from_db()
    assert relation.ended_at is None

    # Fresh rows are left to their own dispatch; the sweep takes rows older than a minute.
    assert tasks.sweep_callback_inbox() == 0
    CallbackInbox.objects.filter(pk=row.pk).update(received_at=timezone.now() - dt.timedelta(minutes=2))
    assert tasks.sweep_callback_inbox() == 1

    row.refresh_from_db()
    relation.refresh_from_db()
    assert row.status == CallbackInbox.Status.DONE
    assert relation.ended_by == FollowRelation.EndedBy.CUSTOMER
    assert Event.objects.filter(customer=followed_customer, kind="friend_deleted_by_customer").count() == 1
    # A second sweep finds nothing to do.
    assert tasks.sweep_callback_inbox() == 0


def test_wecom_beat_entries_name_real_tasks(settings):
    from scrm.celery import app

    app.loader.import_default_modules()
    names = [entry["task"] for key, entry in settings.CELERY_BEAT_SCHEDULE.items() if key.startswith("wecom-")]

    assert sorted(names) == [
        "scrm.wecom.tasks.pull_chat_archive",
        "scrm.wecom.tasks.sweep_callback_inbox",
        "scrm.wecom.tasks.sweep_tag_outbox",
        "scrm.wecom.tasks.wecom_sync",
    ]
    assert all(name in app.tasks for name in names)


def test_production_settings_do_not_default_to_the_public_demo_callback_secrets():
    # The demo token and AES key are in the repository: a production default to them would let
    # anyone forge signed callbacks (add/delete contacts, tags) into the inbox.
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 50}
    env.pop("WECOM_CALLBACK_TOKEN", None)
    env.pop("WECOM_CALLBACK_AES_KEY", None)
    code = "import scrm.settings as s; print(repr((s.WECOM_CALLBACK_TOKEN, s.WECOM_CALLBACK_AES_KEY)))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "('', '')"


@pytest.mark.parametrize("missing", ["WECOM_CALLBACK_TOKEN", "WECOM_CALLBACK_AES_KEY"])
def test_an_unconfigured_callback_endpoint_refuses_everything_and_says_why(client, settings, missing, no_processing):
    query, body = callback_build(contact_event("add_external_contact", userid="guide_a", external_userid="wmX"))
    setattr(settings, missing, "")

    response = _post(client, query, body)

    assert response.status_code == 403
    assert "未配置" in response.content.decode()
    assert CallbackInbox.objects.count() == 0


def test_a_signed_callback_nested_a_thousand_levels_is_refused_not_a_500(client, post_callback):
    deep = "<a>" * 1000 + "x" + "</a>" * 1000
    xml = f"<xml><ToUserName>ww</ToUserName><Event>change_external_contact</Event><Deep>{deep}</Deep></xml>"
    response = post_callback(xml)
    assert response.status_code in (400, 403)
    assert not CallbackInbox.objects.exists()
