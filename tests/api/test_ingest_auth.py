"""API keys: `Authorization: Api-Key <key>`, read/write scopes; admins' sessions keep working."""

import pytest
from django.core.management import call_command

from scrm.api.models import ApiKey
from tests.api.conftest import KeyClient
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

IDENTIFY = "/api/v1/customers/identify"
EVENTS = "/api/v1/events"
ORDER = "/api/v1/orders/mp/NO1"
BODY = {"identities": {"mp_openid": "oMP1"}}
ORDER_BODY = {**BODY, "paid_at": "2026-11-01T15:30:00+08:00", "amount": "10.00"}
EVENTS_BODY = {
    "source": "mp",
    "events": [
        {
            "id": "1",
            "kind": "mp_visit",
            "occurred_at": "2026-11-01T15:30:00+08:00",
            "channel": "mp",
            "identities": {"mp_openid": "oMP1"},
        }
    ],
}


def calls(api, customer_id):
    return [
        api.post(IDENTIFY, BODY),
        api.post(EVENTS, EVENTS_BODY),
        api.put(ORDER, ORDER_BODY),
        api.get(f"/api/v1/customers/{customer_id}"),
    ]


def test_no_key_is_401(client):
    customer = CustomerFactory()
    for response in calls(KeyClient(client, ""), customer.pk):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Api-Key"


def test_wrong_key_is_401(client, write_key):
    key, raw = write_key
    customer = CustomerFactory()
    for bad in (f"{key.prefix}.wrong-secret", "nodot", f"deadbeef.{raw.partition('.')[2]}", ""):
        for response in calls(KeyClient(client, bad or " "), customer.pk):
            assert response.status_code == 401, bad
    assert "API 密钥无效" in KeyClient(client, "x.y").post(IDENTIFY, BODY).json()["message"]


def test_inactive_key_is_401(client, write_key):
    key, raw = write_key
    ApiKey.objects.filter(pk=key.pk).update(active=False)
    assert KeyClient(client, raw).post(IDENTIFY, BODY).status_code == 401


def test_read_key_may_read_but_not_write(reader):
    customer = CustomerFactory()
    identify, events, order, detail = calls(reader, customer.pk)
    assert identify.status_code == events.status_code == order.status_code == 403
    assert "只读" in identify.json()["message"]
    assert detail.status_code == 200


def test_write_key_may_write_and_read(writer):
    customer = CustomerFactory()
    statuses = [r.status_code for r in calls(writer, customer.pk)]
    assert statuses == [201, 200, 201, 200]


def test_key_use_is_recorded(writer, write_key):
    assert write_key[0].last_used_at is None
    writer.post(IDENTIFY, BODY)
    write_key[0].refresh_from_db()
    assert write_key[0].last_used_at is not None


def test_only_a_hash_of_the_key_is_stored(write_key):
    key, raw = write_key
    secret = raw.partition(".")[2]
    assert raw.startswith(key.prefix + ".")
    assert secret not in key.key_hash and len(key.key_hash) == 64


def test_admin_session_works_guide_session_does_not(client, admin_staff, guide):
    client.force_login(guide.user)
    assert client.post(IDENTIFY, BODY, content_type="application/json").status_code == 403
    client.force_login(admin_staff.user)
    assert client.post(IDENTIFY, BODY, content_type="application/json").status_code == 201


def test_api_key_create_command_prints_a_working_key_once(client, capsys):
    call_command("api_key_create", "POS 系统", "--scope", "write")
    out = capsys.readouterr()
    raw = out.out.strip()
    assert "不会再次显示" in out.err
    key = ApiKey.objects.get(name="POS 系统")
    assert key.scope == "write" and raw.startswith(key.prefix)
    assert KeyClient(client, raw).post(IDENTIFY, BODY).status_code == 201


def test_api_key_create_command_read_scope(client, capsys):
    call_command("api_key_create", "BI", "--scope", "read")
    raw = capsys.readouterr().out.strip()
    assert KeyClient(client, raw).post(IDENTIFY, BODY).status_code == 403


def test_admin_creates_a_key_and_sees_it_once(client, admin_staff):
    admin_staff.user.is_superuser = True
    admin_staff.user.save()
    client.force_login(admin_staff.user)
    response = client.post("/admin/api/apikey/add/", {"name": "有赞", "scope": "write"}, follow=True)
    assert response.status_code == 200
    key = ApiKey.objects.get(name="有赞")
    messages = [str(m) for m in response.context["messages"]]
    raw = next(m.split("：", 1)[1] for m in messages if "不会再次显示" in m)
    client.logout()
    assert KeyClient(client, raw).post(IDENTIFY, BODY).status_code == 201
    assert raw.startswith(key.prefix)
    # The change page never shows the hash or the key.
    client.force_login(admin_staff.user)
    page = client.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()
    assert key.key_hash not in page and raw not in page
