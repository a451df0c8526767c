import os
import subprocess
import sys

from django.urls import reverse


def test_console_is_never_framed(client):
    response = client.get(reverse("console:login"))
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_sidebar_is_frameable_by_wecom_only(client, db):
    response = client.get(reverse("sidebar:login"))
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://work.weixin.qq.com https://*.work.weixin.qq.com" in policy
    assert "X-Frame-Options" not in response


def test_scripts_only_from_our_origin(client):
    policy = client.get(reverse("console:login"))["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert script_src.split()[1:] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no CDN


def _setting(name: str, **env) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "scrm.settings", **env}
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True).stdout


def test_hsts_is_on_when_the_site_is_https():
    assert _setting("SECURE_HSTS_SECONDS", SITE_URL="https://scrm.example.com").strip() == "31536000"
    assert _setting("SECURE_HSTS_SECONDS", SITE_URL="http://127.0.0.1:8000").strip() == "0"
