"""JS-SDK signatures and the sidebar's config endpoint."""

import pytest
from django.urls import reverse

from scrm.wecom.jssdk import jssdk_signature
from scrm.wecom.simulator.models import SimTicket

PAGE = "http://testserver/sidebar/"


def test_signature_matches_the_published_example():
    # The worked example of WeChat's JS-SDK documentation (附录1).
    signature = jssdk_signature(
        ticket="sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
        noncestr="Wm3WZYTPz0wzccnW",
        timestamp=1414587457,
        url="http://mp.weixin.qq.com?params=value",
    )

    assert signature == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_signature_ignores_the_fragment_but_not_the_query():
    def sign(url):
        return jssdk_signature(ticket="T", noncestr="N", timestamp=1, url=url)

    assert sign("https://a.example/sidebar/?x=1#top") == sign("https://a.example/sidebar/?x=1")
    assert sign("https://a.example/sidebar/?x=1") != sign("https://a.example/sidebar/")


def test_config_needs_a_signed_in_guide(client, db):
    response = client.get(reverse("sidebar:jssdk_config"), {"url": PAGE})

    assert response.status_code == 401
    assert "登录" in response.json()["error"]


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/sidebar/",
        "https://evil.example/sidebar/",
        "javascript:alert(1)//testserver/",
        "ftp://testserver/sidebar/",
        "http://[::1/sidebar/",  # urlsplit raises on it
    ],
)
def test_config_refuses_urls_that_are_not_our_pages(guide_client, url):
    response = guide_client.get(reverse("sidebar:jssdk_config"), {"url": url})

    assert response.status_code == 400
    assert "url" in response.json()["error"]


def _ticket(kind: str) -> str:
    return SimTicket.objects.get(kind=kind).ticket


def test_config_signs_both_configs_with_the_simulators_tickets(guide_client, wecom_sim, settings):
    url = PAGE + "?from=chat#ignored"

    data = guide_client.get(reverse("sidebar:jssdk_config"), {"url": url}).json()

    config, agent = data["config"], data["agentConfig"]
    assert config["appId"] == settings.WECOM_CORP_ID
    assert agent["corpid"] == settings.WECOM_CORP_ID
    assert agent["agentid"] == str(settings.WECOM_AGENT_ID)
    assert "getCurExternalContact" in agent["jsApiList"]
    assert config["signature"] == jssdk_signature(
        ticket=_ticket("jsapi"), noncestr=config["nonceStr"], timestamp=config["timestamp"], url=url
    )
    assert agent["signature"] == jssdk_signature(
        ticket=_ticket("agent_config"), noncestr=agent["nonceStr"], timestamp=agent["timestamp"], url=url
    )
    assert config["nonceStr"] != agent["nonceStr"]


def test_tickets_are_fetched_once_then_served_from_cache(guide_client, wecom_sim):
    for _ in range(3):
        assert guide_client.get(reverse("sidebar:jssdk_config"), {"url": PAGE}).status_code == 200

    assert SimTicket.objects.filter(kind="jsapi").count() == 1
    assert SimTicket.objects.filter(kind="agent_config").count() == 1


def test_wecom_failure_is_a_502_with_a_message(guide_client, wecom_sim):
    wecom_sim.fault_inject(path="get_jsapi_ticket", errcode=-1)

    response = guide_client.get(reverse("sidebar:jssdk_config"), {"url": PAGE})

    assert response.status_code == 502
    assert "企业微信暂时无法访问" in response.json()["error"]
