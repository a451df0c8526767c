"""Behind a TLS-terminating load balancer: origins, scheme, WeCom's domain check, trusted-IP errors."""

import json

import pytest
from django.urls import reverse

from scrm.wecom.errors import WeComError
from tests.deploy.envreads import SETTINGS, run_with

pytestmark = pytest.mark.django_db


def _settings_with(tmp_path, **env) -> dict:
    production = {"VAR_DIR": str(tmp_path), "DEBUG": "false", "SECRET_KEY": "x" * 50, "WECOM_SIMULATOR": "false"}
    return run_with(SETTINGS, {**production, **env})[0]


def test_site_urls_origin_is_trusted_for_posts_by_default(tmp_path):
    settings = _settings_with(tmp_path, SITE_URL="https://scrm.example.com/")
    assert settings["CSRF_TRUSTED_ORIGINS"] == ["https://scrm.example.com"]
    assert settings["SITE_URL"] == "https://scrm.example.com"
    assert settings["SECURE_PROXY_SSL_HEADER"] is None
    assert settings["SECURE_SSL_REDIRECT"] is False  # cannot tell https from http: no redirect loop


def test_the_load_balancers_header_says_https(tmp_path):
    settings = _settings_with(
        tmp_path, SITE_URL="https://scrm.example.com", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto"
    )
    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert settings["SECURE_SSL_REDIRECT"] is True


def test_console_login_post_from_the_public_origin_passes_csrf(settings, manager):
    from django.test import Client

    settings.SITE_URL = "https://scrm.example.com"
    settings.CSRF_TRUSTED_ORIGINS = ["https://scrm.example.com"]
    settings.ALLOWED_HOSTS = ["scrm.example.com"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    browser = Client(enforce_csrf_checks=True, HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="scrm.example.com")
    browser.get(reverse("console:login"), secure=False)
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        reverse("console:login"),
        {"username": manager.userid, "password": "wrong", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="https://scrm.example.com",
        HTTP_REFERER="https://scrm.example.com/console/login/",
    )
    assert response.status_code != 403


def test_wecom_domain_verification_files_from_a_directory(client, settings, tmp_path):
    settings.WECOM_VERIFY_DIR = str(tmp_path)
    settings.WECOM_VERIFY_FILES = {}
    (tmp_path / "WW_verify_AbC123.txt").write_text("AbC123\n")
    response = client.get("/WW_verify_AbC123.txt")
    assert response.status_code == 200 and response.content == b"AbC123"
    assert response["Content-Type"].startswith("text/plain")
    assert client.get("/WW_verify_Other9.txt").status_code == 404
    assert client.get("/WW_verify_..%2Fsettings.txt").status_code == 404


def test_wecom_domain_verification_files_from_the_environment(client, settings, tmp_path):
    settings.WECOM_VERIFY_FILES = _settings_with(
        tmp_path, WECOM_VERIFY_FILES="WW_verify_x1.txt:x1, WW_verify_y2.txt:y2"
    )["WECOM_VERIFY_FILES"]
    assert client.get("/WW_verify_y2.txt").content == b"y2"


def test_an_untrusted_server_ip_tells_the_guide_to_fetch_an_admin(guide_client, monkeypatch):
    def refuse(**_kwargs):
        raise WeComError(60020, "not allow to access from your ip")

    monkeypatch.setattr("sidebar.auth_views.jssdk_config_for_url", refuse)
    response = guide_client.get(reverse("sidebar:jssdk_config"), {"url": "http://testserver/sidebar/"})
    assert response.status_code == 502
    message = json.loads(response.content)["error"]
    assert "企业可信IP" in message and "重试" not in message
