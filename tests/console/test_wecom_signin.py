"""Managers sign in to the console with WeCom OAuth (the sidebar's flow), against the live simulator."""

from urllib.parse import parse_qs, urlsplit

import pytest

from scrm.org.models import Staff
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _sign_in_through_wecom(client, userid: str, next_url: str):
    login_page = client.get("/console/login/", {"next": next_url}).content.decode()
    start = login_page.split('class="button" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    oauth = urlsplit(client.get(start)["Location"])
    callback = urlsplit(client.get(f"{oauth.path}?{oauth.query}&sim_userid={userid}")["Location"])
    assert "code" in parse_qs(callback.query)
    return client.get(f"{callback.path}?{callback.query}")


def test_manager_signs_in_with_wecom_and_lands_on_the_console(client, wecom_sim):
    manager = StaffFactory(role=Staff.Role.MANAGER, userid="mgr_wecom")
    wecom_sim.member_add(userid=manager.userid, name=manager.name)

    response = _sign_in_through_wecom(client, manager.userid, "/console/performance/")

    assert response.status_code == 302
    assert response["Location"] == "/console/performance/"
    assert client.get("/console/").status_code == 200


def test_a_guide_signing_in_with_wecom_is_still_refused_the_console(client, wecom_sim):
    guide = StaffFactory(role=Staff.Role.GUIDE, userid="guide_wecom")
    wecom_sim.member_add(userid=guide.userid, name=guide.name)

    _sign_in_through_wecom(client, guide.userid, "/console/")

    assert client.get("/console/").status_code == 403
