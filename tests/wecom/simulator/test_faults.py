"""The simulator's dev-only fault switch (WECOM_SIM_FAULTS_FILE), which the fault drills flip at runtime."""

import json
import time

import pytest

from scrm.wecom import api, errors
from scrm.wecom.errors import WeComError


@pytest.fixture
def faults(tmp_path, settings):
    path = tmp_path / "faults.json"
    settings.WECOM_SIM_FAULTS_FILE = str(path)

    def switch(**spec):
        path.write_text(json.dumps(spec))

    return switch


def test_no_fault_file_answers_normally(wecom_sim, faults):
    wecom_sim.member_add(userid="guide_a", name="导购甲")

    assert api.user_get("guide_a")["name"] == "导购甲"


def test_a_5xx_fault_is_a_retryable_error_and_clears_when_switched_off(wecom_sim, faults):
    wecom_sim.member_add(userid="guide_a", name="导购甲")
    faults(http_status=502)

    with pytest.raises(WeComError) as exc:
        api.user_get("guide_a")
    assert (exc.value.errcode, exc.value.retryable) == (errors.HTTP_STATUS, True)

    faults()
    assert api.user_get("guide_a")["name"] == "导购甲"


def test_a_rate_limit_fault_only_hits_the_paths_named(wecom_sim, faults):
    wecom_sim.member_add(userid="guide_a", name="导购甲")
    wecom_sim.follow_add(userid="guide_a", external_userid="wmCUST1")
    faults(errcode=45009, paths=["externalcontact/get"])

    assert api.user_get("guide_a")["name"] == "导购甲"
    with pytest.raises(WeComError) as exc:
        api.external_contact_get("wmCUST1")
    assert (exc.value.errcode, exc.value.retryable) == (45009, True)


def test_a_body_that_is_not_json_is_retryable(wecom_sim, faults):
    # A proxy's or a half-written answer is WeCom being unwell, not a permanent refusal: retry it later.
    wecom_sim.member_add(userid="guide_a", name="导购甲")
    api.user_get("guide_a")  # the token is fetched while WeCom is healthy
    faults(bad_json=True)

    with pytest.raises(WeComError) as exc:
        api.user_get("guide_a")
    assert (exc.value.errcode, exc.value.retryable) == (errors.BAD_RESPONSE, True)


def test_a_slow_answer_times_out_as_retryable(wecom_sim, faults, settings):
    wecom_sim.member_add(userid="guide_a", name="导购甲")
    api.user_get("guide_a")
    settings.WECOM_TIMEOUT = 0.3
    faults(delay=1)

    with pytest.raises(WeComError) as exc:
        api.user_get("guide_a")
    assert (exc.value.errcode, exc.value.retryable) == (errors.TIMEOUT, True)


def test_a_latency_range_answers_each_call_within_it(wecom_sim, faults):
    # The callback bench's "realistic WeCom": every answer takes 50–150 ms, none fails.
    wecom_sim.member_add(userid="guide_a", name="导购甲")
    api.user_get("guide_a")
    faults(delay=0.05, delay_max=0.15)

    for _ in range(4):
        started = time.monotonic()
        assert api.user_get("guide_a")["name"] == "导购甲"
        assert 0.05 <= time.monotonic() - started < 1.0
