"""The WeCom client against the simulator: real HTTP, real wechatpy."""

import socket
import threading

import pytest
from requests.adapters import HTTPAdapter

from scrm.wecom import api, errors
from scrm.wecom.client import WeComClient, get_client, reset_clients
from scrm.wecom.errors import WeComError
from scrm.wecom.simulator.models import SimAccessToken, SimTicket


@pytest.fixture
def contact_pair(wecom_sim):
    wecom_sim.member_add(userid="guide_a", name="导购甲")
    wecom_sim.follow_add(userid="guide_a", external_userid="wmCUST1")
    return "guide_a", "wmCUST1"


def test_token_is_fetched_once_and_shared(wecom_sim):
    wecom_sim.member_add(userid="guide_a", name="导购甲")

    assert api.user_get("guide_a")["name"] == "导购甲"
    assert api.user_get("guide_a")["name"] == "导购甲"

    assert SimAccessToken.objects.filter(kind="app").count() == 1


def test_each_secret_gets_its_own_token(wecom_sim, contact_pair):
    api.user_get("guide_a")
    api.external_contact_list("guide_a")

    assert sorted(SimAccessToken.objects.values_list("kind", flat=True)) == ["app", "contact"]


def test_concurrent_first_calls_fetch_one_token(wecom_sim):
    # Threads stand in for processes: all share the cache, exactly one may call gettoken.
    tokens, failures = [], []

    def call():
        try:
            tokens.append(get_client("app").access_token)
        except Exception as exc:  # collected so the assertion names it
            failures.append(exc)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert len(set(tokens)) == 1
    assert SimAccessToken.objects.count() == 1


def test_expired_token_is_refreshed_once_and_the_call_succeeds(wecom_sim, contact_pair):
    api.external_contact_list("guide_a")
    wecom_sim.tokens_expire_all()

    assert api.external_contact_list("guide_a") == ["wmCUST1"]
    assert SimAccessToken.objects.filter(kind="contact").count() == 2


def test_token_still_rejected_after_refresh_gives_up(wecom_sim, contact_pair):
    wecom_sim.fault_inject(path="externalcontact/list", errcode=42001, times=2)

    with pytest.raises(WeComError) as exc:
        api.external_contact_list("guide_a")

    assert exc.value.errcode == 42001
    # The single retry consumed both faults; nothing loops.
    assert api.external_contact_list("guide_a") == ["wmCUST1"]


def test_unknown_token_is_refused_with_40014(wecom_sim):
    wecom_sim.member_add(userid="guide_a")
    client = get_client("app")

    with pytest.raises(WeComError) as exc:
        client.get("user/get", params={"userid": "guide_a", "access_token": "forged"})

    # A token we were handed is never silently replaced.
    assert exc.value.errcode == 40014


def test_wrong_corp_secret_is_a_permanent_error(wecom_sim, settings):
    client = WeComClient(
        kind="app",
        corp_id=settings.WECOM_CORP_ID,
        secret="not-the-secret",
        api_base=settings.WECOM_API_BASE,
        timeout=2,
    )

    with pytest.raises(WeComError) as exc:
        client.user.get("anyone")

    assert exc.value.errcode == 40001
    assert exc.value.retryable is False


def test_rate_limit_is_retryable(wecom_sim, contact_pair):
    wecom_sim.fault_inject(path="externalcontact/mark_tag", errcode=45009)

    with pytest.raises(WeComError) as exc:
        api.mark_tag(userid="guide_a", external_userid="wmCUST1", add=["etX"])

    assert exc.value.errcode == 45009
    assert exc.value.retryable is True


def test_system_busy_is_retryable(wecom_sim):
    wecom_sim.fault_inject(path="get_jsapi_ticket", errcode=-1)

    with pytest.raises(WeComError) as exc:
        api.get_jsapi_ticket()

    assert exc.value.retryable is True
    assert api.get_jsapi_ticket()  # the next call goes through


def test_not_a_contact_is_permanent(wecom_sim, contact_pair):
    wecom_sim.member_add(userid="guide_b")
    group = wecom_sim.tag_group_add(name="兴趣", tags=["护肤"])
    tag_id = group.tags.get().tag_id

    with pytest.raises(WeComError) as exc:
        api.mark_tag(userid="guide_b", external_userid="wmCUST1", add=[tag_id])

    assert exc.value.errcode == 84061
    assert exc.value.retryable is False


def test_unreachable_server_is_retryable(settings, db):
    settings.WECOM_API_BASE = "http://127.0.0.1:9/cgi-bin/"
    settings.WECOM_TIMEOUT = 1

    with pytest.raises(WeComError) as exc:
        api.user_get("guide_a")

    assert exc.value.retryable is True


def test_contact_api_with_the_app_token_is_forbidden(wecom_sim, contact_pair):
    client = get_client("app")

    with pytest.raises(WeComError) as exc:
        client.get("externalcontact/list", params={"userid": "guide_a"})

    assert exc.value.errcode == 48002
    assert exc.value.retryable is False


def test_tickets_are_cached(wecom_sim):
    first = api.get_jsapi_ticket()
    agent = api.get_agent_ticket()

    assert api.get_jsapi_ticket() == first
    assert api.get_agent_ticket() == agent
    assert first != agent
    assert SimTicket.objects.count() == 2


def test_a_silent_server_times_out_as_retryable(settings, db):
    # Accepts the connection (listen backlog) and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        settings.WECOM_API_BASE = f"http://127.0.0.1:{silent.getsockname()[1]}/cgi-bin/"
        settings.WECOM_TIMEOUT = 0.3

        with pytest.raises(WeComError) as exc:
            api.user_get("guide_a")

    assert exc.value.errcode == errors.TIMEOUT
    assert exc.value.retryable is True


def test_an_unreachable_server_never_puts_the_secret_or_token_in_errors_or_logs(settings, db, caplog):
    # requests' error text holds the URL with its query string: corpsecret= on gettoken,
    # access_token= on every other call. Both end up in logs, last_error columns and console reasons.
    settings.WECOM_API_BASE = "http://127.0.0.1:9/cgi-bin/"
    settings.WECOM_SECRET = "app-secret-never-logged"
    settings.WECOM_TIMEOUT = 1
    client = get_client("app")
    client.session.set(client.access_token_key, "token-never-logged", 3600)

    with pytest.raises(WeComError) as with_token:
        api.user_get("guide_a")
    client.session.delete(client.access_token_key)
    with pytest.raises(WeComError) as fetching_token:
        api.user_get("guide_a")

    for error in (with_token.value, fetching_token.value):
        assert error.errcode == errors.CONNECTION
        assert "127.0.0.1" in error.errmsg  # still says where it failed
        assert "never-logged" not in f"{error} {error.errmsg} {error.reason} {error!r}"
    assert "access_token=***" in with_token.value.errmsg
    assert "corpsecret=***" in fetching_token.value.errmsg
    assert "never-logged" not in caplog.text


def test_every_thread_of_a_threaded_worker_keeps_its_wecom_connection():
    # 16 threads share one client on the fast queue: a pool smaller than that reconnects on most calls.
    reset_clients()
    adapter = get_client("contact")._http.get_adapter("https://qyapi.weixin.qq.com/cgi-bin/")
    assert isinstance(adapter, HTTPAdapter) and adapter._pool_maxsize >= 16
