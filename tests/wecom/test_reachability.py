"""/readyz says when WeCom is failing (a short outage the inbox's age shows only ten minutes later), and
does not flap for a single error (#13)."""

import pytest

from scrm.wecom import api, reachability
from scrm.wecom.errors import WeComError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_redis(settings):
    settings.REDIS_URL = ""
    settings.CACHE_REDIS_URL = ""
    settings.READYZ_WECOM_MIN_FAILURES = 5
    settings.READYZ_WECOM_WINDOW = 300


@pytest.fixture
def member(wecom_sim):
    wecom_sim.member_add(userid="guide_r", name="导购")
    return "guide_r"


def _calls(userid: str, n: int) -> int:
    """Call WeCom n times; how many failed."""
    failed = 0
    for _ in range(n):
        try:
            api.user_get(userid)
        except WeComError:
            failed += 1
    return failed


def _wecom(client) -> tuple[int, dict]:
    response = client.get("/readyz")
    return response.status_code, response.json()["wecom"]


def test_one_failed_call_is_reported_but_readiness_holds(client, wecom_sim, member):
    wecom_sim.fault_inject(path="user/get", errcode=45009, times=1)
    assert _calls(member, 3) == 1

    status, wecom = _wecom(client)
    assert status == 200 and wecom["status"] == "ok"
    assert wecom["failed"] == 1 and wecom["calls"] >= 3
    assert wecom["last_error"].startswith("45009 user/get")


def test_wecom_failing_for_a_minute_makes_readyz_fail_and_recovery_clears_it(client, wecom_sim, member):
    wecom_sim.fault_inject(path="user/get", errcode=-1, times=6)  # 系统繁忙, call after call
    assert _calls(member, 6) == 6

    status, wecom = _wecom(client)
    assert status == 503 and wecom["status"] == "failing" and wecom["failed"] == 6
    assert client.get("/readyz").json()["status"] == "error"

    assert _calls(member, 6) == 0  # WeCom is back: successes outweigh the failures
    status, wecom = _wecom(client)
    assert status == 200 and wecom["status"] == "ok"


def test_refusals_about_one_customer_are_answers_not_an_outage(client, wecom_sim, member):
    wecom_sim.fault_inject(path="user/get", errcode=60111, times=8)  # userid not found: WeCom answered
    assert _calls(member, 8) == 8

    status, wecom = _wecom(client)
    assert status == 200 and wecom["status"] == "ok" and wecom["failed"] == 0


def test_an_outage_is_forgotten_once_out_of_the_window(client, wecom_sim, member, monkeypatch):
    wecom_sim.fault_inject(path="user/get", errcode=45009, times=6)
    _calls(member, 6)
    assert _wecom(client)[0] == 503

    later = reachability._now() + 400
    monkeypatch.setattr(reachability, "_now", lambda: later)
    status, wecom = _wecom(client)
    assert status == 200 and wecom["calls"] == 0 and "last_error" not in wecom
