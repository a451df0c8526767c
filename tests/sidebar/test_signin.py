"""Sidebar sign-in: WeCom OAuth against the live simulator, from the first redirect to the session."""

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.core import signing
from django.urls import reverse

from scrm.org.models import Staff
from tests.factories import StaffFactory

HOME = "/sidebar/"


def _start(client, next_url: str | None = HOME):
    """GET sidebar:login; returns (the OAuth URL's parts, its query as a flat dict)."""
    query = {"next": next_url} if next_url else {}
    response = client.get(reverse("sidebar:login"), query)
    assert response.status_code == 302
    parts = urlsplit(response["Location"])
    return parts, {k: v[0] for k, v in parse_qs(parts.query).items()}


def _authorize_as(client, userid: str, next_url: str | None = HOME) -> str:
    """Run the simulated OAuth page for `userid`; returns the callback URL it sends the browser to."""
    parts, _ = _start(client, next_url)
    response = client.get(f"{parts.path}?{parts.query}&{urlencode({'sim_userid': userid})}")
    assert response.status_code == 302, response.content.decode()
    return response["Location"]


def _callback(client, callback_url: str):
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def _signed_in_staff(client) -> Staff | None:
    response = client.get(HOME)
    return response.wsgi_request.user.staff if response.status_code == 200 else None


@pytest.fixture
def sim_guide(wecom_sim, guide):
    wecom_sim.member_add(userid=guide.userid, name=guide.name)
    return guide


def test_sidebar_without_session_goes_to_login(client, db):
    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('sidebar:login')}?next=%2Fsidebar%2F"


def test_next_keeps_the_whole_query_string(client, db):
    response = client.get("/sidebar/c/wmX/timeline/?group=order&after=1_2")

    assert (
        response["Location"]
        == f"{reverse('sidebar:login')}?next=%2Fsidebar%2Fc%2FwmX%2Ftimeline%2F%3Fgroup%3Dorder%26after%3D1_2"
    )


def test_login_redirects_to_wecom_oauth_with_a_state_bound_to_the_browser(client, db, settings):
    # Behind a TLS-terminating load balancer the request arrives as http: the address is SITE_URL's.
    settings.SITE_URL = "https://scrm.example.com"
    settings.WECOM_OAUTH_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
    settings.WECOM_CORP_ID = "wwCORP"
    settings.WECOM_AGENT_ID = "1000009"

    response = client.get(reverse("sidebar:login"), {"next": HOME})

    location = response["Location"]
    parts = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == settings.WECOM_OAUTH_URL
    assert parts.fragment == "wechat_redirect"
    assert query["appid"] == "wwCORP"
    assert query["agentid"] == "1000009"
    assert query["response_type"] == "code"
    assert query["scope"] == "snsapi_base"
    assert query["redirect_uri"] == "https://scrm.example.com/sidebar/oauth/callback/"
    assert "redirect_uri=https%3A%2F%2Fscrm.example.com%2Fsidebar%2Foauth%2Fcallback%2F" in location
    assert len(query["state"]) >= 16
    cookie = response.cookies["sidebar_oauth"].value
    assert cookie.replace("-", "").replace("_", "").replace(":", "").isalnum()  # no quotes clients could mangle
    started = signing.loads(cookie, salt="sidebar.oauth")  # signed, not encrypted
    assert started["state"] == query["state"]
    assert not Session.objects.exists()  # anonymous visits leave no session rows behind
    # Another visitor gets a different state.
    other = client.__class__()
    _, other_query = _start(other)
    assert other_query["state"] != query["state"]


def test_oauth_signs_the_guide_in_and_returns_to_next(client, sim_guide, relation):
    portrait = reverse("sidebar:portrait", kwargs={"external_userid": relation.external_userid})

    response = _callback(client, _authorize_as(client, sim_guide.userid, next_url=portrait))

    assert response.status_code == 302
    assert response["Location"] == portrait
    assert _signed_in_staff(client) == sim_guide


def test_first_sign_in_creates_and_links_a_user(client, wecom_sim, store):
    staff = StaffFactory(store=store, user=None, userid="newguide")
    wecom_sim.member_add(userid="newguide")

    response = _callback(client, _authorize_as(client, "newguide"))

    assert response["Location"] == HOME
    staff.refresh_from_db()
    assert staff.user is not None
    assert _signed_in_staff(client) == staff
    # Signing in again reuses the same user.
    client.logout()
    _callback(client, _authorize_as(client, "newguide"))
    assert Staff.objects.get(pk=staff.pk).user_id == staff.user_id


def test_next_pointing_elsewhere_is_ignored(client, sim_guide):
    response = _callback(client, _authorize_as(client, sim_guide.userid, next_url="https://evil.example/steal"))

    assert response["Location"] == HOME


def test_state_mismatch_is_refused(client, sim_guide):
    callback = _authorize_as(client, sim_guide.userid)
    forged = callback.replace("state=", "state=x")

    response = _callback(client, forged)

    assert response.status_code == 400
    assert "登录链接已失效" in response.content.decode()
    assert _signed_in_staff(client) is None


def test_callback_without_a_login_started_in_this_session_is_refused(client, sim_guide):
    callback = _authorize_as(client, sim_guide.userid)
    stranger = client.__class__()

    response = _callback(stranger, callback)

    assert response.status_code == 400
    assert _signed_in_staff(stranger) is None


def test_state_is_single_use(client, sim_guide):
    callback = _authorize_as(client, sim_guide.userid)
    _callback(client, callback)
    client.logout()

    response = _callback(client, callback)

    assert response.status_code == 400


def test_member_without_staff_record_sees_a_clear_page(client, wecom_sim, db):
    wecom_sim.member_add(userid="stranger")

    response = _callback(client, _authorize_as(client, "stranger"))

    assert response.status_code == 403
    body = response.content.decode()
    assert "尚未开通导购助手" in body
    assert "stranger" in body
    assert _signed_in_staff(client) is None


def test_departed_staff_cannot_sign_in(client, sim_guide):
    Staff.objects.filter(pk=sim_guide.pk).update(is_active=False)

    response = _callback(client, _authorize_as(client, sim_guide.userid))

    assert response.status_code == 403
    assert "离职" in response.content.decode()
    assert _signed_in_staff(client) is None


def test_someone_outside_the_corp_is_refused(client, wecom_sim, db):
    state = _start(client)[1]["state"]
    code = wecom_sim.oauth_code_issue(openid="oOUTSIDER")

    response = client.get(reverse("sidebar:oauth_callback"), {"code": code, "state": state})

    assert response.status_code == 403
    assert "只有本企业的成员" in response.content.decode()


def test_a_used_code_asks_to_reopen(client, sim_guide):
    callback = _authorize_as(client, sim_guide.userid)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    _callback(client, callback)
    client.logout()
    state = _start(client)[1]["state"]

    response = client.get(reverse("sidebar:oauth_callback"), {"code": code, "state": state})

    assert response.status_code == 400
    assert "授权码无效或已使用" in response.content.decode()


def test_wecom_failure_shows_a_retry_page_not_a_500(client, sim_guide, wecom_sim):
    callback = _authorize_as(client, sim_guide.userid)
    wecom_sim.fault_inject(path="auth/getuserinfo", errcode=-1)

    response = _callback(client, callback)

    assert response.status_code == 502
    assert "企业微信暂时无法访问" in response.content.decode()
    assert reverse("sidebar:login") in response.content.decode()


def test_a_server_ip_outside_wecoms_trusted_list_names_the_admin_setting(client, sim_guide, wecom_sim):
    callback = _authorize_as(client, sim_guide.userid)
    wecom_sim.fault_inject(path="auth/getuserinfo", errcode=60020)

    response = _callback(client, callback)

    assert response.status_code == 502
    page = response.content.decode()
    assert "企业可信IP" in page and "管理员" in page
    assert "稍后" not in page  # retrying cannot help


def test_missing_code_is_a_clear_400(client, db):
    state = _start(client)[1]["state"]

    response = client.get(reverse("sidebar:oauth_callback"), {"state": state})

    assert response.status_code == 400
    assert "授权码" in response.content.decode()


def test_signed_in_guide_skips_oauth(guide_client):
    response = guide_client.get(reverse("sidebar:login"), {"next": HOME})

    assert response.status_code == 302
    assert response["Location"] == HOME


def test_htmx_request_with_expired_session_reloads_the_shell(client, relation):
    """The whole iframe goes back through sign-in to /sidebar/, the only page that loads the JS-SDK."""
    portrait = reverse("sidebar:portrait", kwargs={"external_userid": relation.external_userid})

    response = client.get(portrait, headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/sidebar/"})

    assert response.status_code == 204
    assert response["HX-Redirect"] == f"{reverse('sidebar:login')}?{urlencode({'next': HOME})}"


@pytest.mark.parametrize("name", ["sidebar:tag_add", "sidebar:note_add"])
def test_expired_session_on_an_htmx_post_never_signs_in_to_the_post_only_url(client, guide, relation, name, sim_guide):
    """Signing in again lands on the shell, not on a POST-only URL that would answer 405."""
    url = reverse(name, kwargs={"external_userid": relation.external_userid})

    response = client.post(url, {"tag": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    login_url = response["HX-Redirect"]
    assert url not in login_url

    parts = urlsplit(login_url)
    oauth = client.get(f"{parts.path}?{parts.query}")
    oauth_parts = urlsplit(oauth["Location"])
    authorized = client.get(f"{oauth_parts.path}?{oauth_parts.query}&{urlencode({'sim_userid': guide.userid})}")
    landed = _callback(client, authorized["Location"])

    assert landed.status_code == 302 and landed["Location"] == HOME
    shell = client.get(landed["Location"])
    assert shell.status_code == 200
    assert "sidebar/bootstrap.js" in shell.content.decode()


def test_expired_session_on_a_json_endpoint_says_so_in_chinese(client, relation):
    """materials.js fetches JSON: a redirect into OAuth would read as 「网络异常」; a 401 with a reason does not."""
    material_url = reverse("sidebar:material_prepare", args=[relation.external_userid, 1])

    response = client.post(material_url, headers={"Accept": "application/json"})

    assert response.status_code == 401
    assert response.json()["error"] == "登录已过期，请关闭侧边栏后重新打开。"


def test_console_htmx_request_with_expired_session_returns_to_the_page_shown(client, db):
    response = client.get(
        "/console/materials/?q=x",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/console/materials/?q=%E9%9D%A2"},
    )

    assert response.status_code == 204
    assert (
        response["HX-Redirect"]
        == f"{reverse('console:login')}?{urlencode({'next': '/console/materials/?q=%E9%9D%A2'})}"
    )


def test_console_htmx_request_never_returns_to_another_site(client, db):
    response = client.get(
        "/console/materials/", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/console/"}
    )

    assert response["HX-Redirect"] == f"{reverse('console:login')}?{urlencode({'next': '/'})}"


def _script_srcs(body: str) -> list[str]:
    return re.findall(r"<script\b[^>]*\bsrc=\"([^\"]*)\"", body)


def test_shell_page_loads_the_vendored_sdk_and_bootstrap_from_our_static(guide_client, settings):
    settings.WECOM_SIMULATOR = False
    settings.WECOM_CORP_ID = "wwCORP"
    settings.WECOM_AGENT_ID = "1000009"

    body = guide_client.get(HOME).content.decode()

    # Production: WeCom's own SDK and our bootstrap, both from our static, and no simulated bridge
    # (the material tab's script comes with every sidebar page).
    assert _script_srcs(body) == [
        "/static/sidebar/materials.js",
        "/static/vendor/htmx-2.0.11.min.js",
        "/static/vendor/wecom-jssdk-2.4.4.global.prod.js",
        "/static/sidebar/bootstrap.js",
    ]
    assert 'data-corp-id="wwCORP"' in body
    assert 'data-agent-id="1000009"' in body
    assert f'data-config-url="{reverse("sidebar:jssdk_config")}"' in body
    assert "/sidebar/c/__EXTERNAL_USERID__/" in body


def test_shell_page_in_the_simulator_loads_the_native_bridge_stand_in_before_the_sdk(guide_client, settings):
    settings.WECOM_SIMULATOR = True

    srcs = _script_srcs(guide_client.get(HOME).content.decode())

    assert all(src.startswith("/static/") for src in srcs)  # no CDN, nothing external
    assert srcs.index("/static/wecom/sim-jssdk.js") < srcs.index("/static/vendor/wecom-jssdk-2.4.4.global.prod.js")


@pytest.mark.django_db
def test_a_guide_who_uses_the_sidebar_stays_signed_in_past_the_first_week(client, settings):
    import time

    from django.utils import timezone

    guide = StaffFactory(userid="daily")
    client.force_login(guide.user)
    client.get(reverse("sidebar:ping"))
    session = client.session
    session["renewed_at"] = int(time.time()) - 6 * 24 * 3600  # last renewed six days ago
    session.save()
    stored = Session.objects.get(session_key=session.session_key)
    stored.expire_date = timezone.now() + timezone.timedelta(days=1)
    stored.save()

    response = client.get(reverse("sidebar:ping"))

    assert response.status_code == 200
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE
    expires = Session.objects.get(session_key=session.session_key).expire_date
    assert expires > timezone.now() + timezone.timedelta(days=6)
    # Once renewed, later requests that day write nothing.
    assert settings.SESSION_COOKIE_NAME not in client.get(reverse("sidebar:ping")).cookies
