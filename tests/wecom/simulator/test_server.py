"""The simulated WeCom server's own rules, through Django's test client."""

import pytest
from django.conf import settings

from scrm.wecom.simulator import services
from scrm.wecom.simulator.models import SimFollowUser, SimMember

BASE = "/_wecom/cgi-bin/"


def _token(client, secret: str) -> str:
    answer = client.get(f"{BASE}gettoken", {"corpid": settings.WECOM_CORP_ID, "corpsecret": secret}).json()
    assert answer["errcode"] == 0 and answer["expires_in"] == 7200
    return answer["access_token"]


@pytest.fixture
def contact_token(client, db):
    return _token(client, settings.WECOM_CONTACT_SECRET)


def test_gettoken_checks_corp_id_and_secret(client, db):
    bad_corp = client.get(f"{BASE}gettoken", {"corpid": "other", "corpsecret": settings.WECOM_SECRET}).json()
    bad_secret = client.get(f"{BASE}gettoken", {"corpid": settings.WECOM_CORP_ID, "corpsecret": "x"}).json()

    assert bad_corp["errcode"] == 40013
    assert bad_secret["errcode"] == 40001


def test_missing_unknown_and_expired_tokens(client, contact_token):
    services.member_add(userid="guide_a")
    path = f"{BASE}externalcontact/list"

    assert client.get(path, {"userid": "guide_a"}).json()["errcode"] == 40014
    assert client.get(path, {"userid": "guide_a", "access_token": "nope"}).json()["errcode"] == 40014
    assert client.get(path, {"userid": "guide_a", "access_token": contact_token}).json()["errcode"] == 0
    services.tokens_expire_all()
    assert client.get(path, {"userid": "guide_a", "access_token": contact_token}).json()["errcode"] == 42001


def test_external_contact_api_needs_the_contact_secret(client, db):
    app_token = _token(client, settings.WECOM_SECRET)

    answer = client.get(f"{BASE}externalcontact/get_follow_user_list", {"access_token": app_token}).json()

    assert answer["errcode"] == 48002


def test_app_only_api_refuses_the_contact_token(client, contact_token):
    answer = client.get(f"{BASE}get_jsapi_ticket", {"access_token": contact_token}).json()

    assert answer["errcode"] == 48002


def test_injected_fault_answers_n_times_then_clears(client, contact_token):
    services.fault_inject(path="externalcontact/get_follow_user_list", errcode=45009, times=2)
    path = f"{BASE}externalcontact/get_follow_user_list"

    codes = [client.get(path, {"access_token": contact_token}).json()["errcode"] for _ in range(3)]

    assert codes == [45009, 45009, 0]


def test_unknown_path_and_bad_json_answer_errcodes_not_500(client, contact_token):
    unknown = client.get(f"{BASE}externalcontact/nope", {"access_token": contact_token})
    bad_json = client.post(
        f"{BASE}externalcontact/mark_tag?access_token={contact_token}",
        data="{not json",
        content_type="application/json",
    )

    assert unknown.status_code == 200 and unknown.json()["errcode"] != 0
    assert bad_json.status_code == 200 and bad_json.json()["errcode"] == 47001


def test_mark_tag_rules(client, contact_token):
    services.follow_add(userid="guide_a", external_userid="wmC1")
    services.member_add(userid="guide_b")
    tag_id = services.tag_group_add(name="组", tags=["甲"]).tags.get().tag_id
    url = f"{BASE}externalcontact/mark_tag?access_token={contact_token}"

    def mark(userid, tag):
        body = {"userid": userid, "external_userid": "wmC1", "add_tag": [tag]}
        return client.post(url, body, content_type="application/json").json()["errcode"]

    assert mark("guide_a", "etUNKNOWN") == 40068
    assert mark("guide_b", tag_id) == 84061
    assert mark("guide_a", tag_id) == 0
    assert mark("guide_a", tag_id) == 0  # marking twice keeps one tag
    assert SimFollowUser.objects.get(member__userid="guide_a").tags == [tag_id]


def test_batch_get_by_user_rejects_limit_over_100(client, contact_token):
    services.member_add(userid="guide_a")
    body = {"userid_list": ["guide_a"], "limit": 101}

    answer = client.post(
        f"{BASE}externalcontact/batch/get_by_user?access_token={contact_token}", body, content_type="application/json"
    ).json()

    assert answer["errcode"] == 40058


def test_departed_member_shows_status_5(client, db):
    token = _token(client, settings.WECOM_SECRET)
    services.member_add(userid="gone", status=SimMember.Status.DEPARTED)

    answer = client.get(f"{BASE}user/get", {"userid": "gone", "access_token": token}).json()

    assert answer["status"] == 5


def test_older_oauth_exchange_spells_userid_capitalised(client, db):
    token = _token(client, settings.WECOM_SECRET)
    code = services.oauth_code_issue(userid="guide_a")

    answer = client.get(f"{BASE}user/getuserinfo", {"code": code, "access_token": token}).json()

    assert answer["UserId"] == "guide_a"
