"""The simulated OAuth authorize page the sidebar sign-in redirects to."""

from urllib.parse import parse_qs, urlsplit

from django.conf import settings

from scrm.wecom.simulator import services
from scrm.wecom.simulator.models import SimMember, SimOAuthCode

URL = "/_wecom/connect/oauth2/authorize"


def _params(**extra):
    return {
        "appid": settings.WECOM_CORP_ID,
        "redirect_uri": "http://testserver/sidebar/auth/callback?next=/sidebar/",
        "response_type": "code",
        "scope": "snsapi_base",
        "state": "s123",
        "agentid": settings.WECOM_AGENT_ID,
        **extra,
    }


def test_chosen_member_is_redirected_with_a_code(client, db):
    services.member_add(userid="guide_a", name="导购甲")

    response = client.get(URL, _params(sim_userid="guide_a"))

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    query = parse_qs(target.query)
    assert target.path == "/sidebar/auth/callback"
    assert query["next"] == ["/sidebar/"] and query["state"] == ["s123"]
    assert SimOAuthCode.objects.get(code=query["code"][0]).userid == "guide_a"


def test_cookie_from_the_chat_page_picks_the_member(client, db):
    services.member_add(userid="guide_b")
    client.cookies["sim_userid"] = "guide_b"

    response = client.get(URL, _params())

    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    assert SimOAuthCode.objects.get(code=code).userid == "guide_b"


def test_without_a_member_the_page_lists_active_members(client, db):
    services.member_add(userid="guide_a", name="导购甲")
    services.member_add(userid="gone", name="离职导购", status=SimMember.Status.DEPARTED)

    response = client.get(URL, _params())

    body = response.content.decode()
    assert response.status_code == 200
    assert "选择登录的成员" in body and "导购甲" in body
    assert "离职导购" not in body
    assert "sim_userid=guide_a" in body


def test_wrong_appid_is_refused(client, db):
    response = client.get(URL, _params(appid="wwOTHER", sim_userid="guide_a"))

    assert response.status_code == 400
    assert "appid" in response.content.decode()
