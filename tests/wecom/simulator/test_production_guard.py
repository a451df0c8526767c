"""The simulator signs anyone in as any member: it must be impossible to run in production by accident."""

import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.factories import StaffFactory

PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "WECOM_CALLBACK_TOKEN": "t", "WECOM_CALLBACK_AES_KEY": "k" * 43}


def _run(code: str, tmp_path, **env) -> subprocess.CompletedProcess:
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "scrm.settings", "VAR_DIR": str(tmp_path), **env}
    environ.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True)


def test_simulator_with_debug_off_refuses_to_start(tmp_path):
    result = _run("import django; django.setup()", tmp_path, **PRODUCTION, WECOM_SIMULATOR="true")
    assert result.returncode != 0
    assert "WECOM_SIMULATOR_UNSAFE_IN_PRODUCTION" in result.stderr


def test_the_loud_override_lets_a_throwaway_demo_start(tmp_path):
    env = {**PRODUCTION, "WECOM_SIMULATOR": "true", "WECOM_SIMULATOR_UNSAFE_IN_PRODUCTION": "yes-i-know"}
    assert _run("import django; django.setup()", tmp_path, **env).returncode == 0


def test_production_settings_have_no_simulator_tables_or_pages(tmp_path):
    code = """
import django; django.setup()
from django.core.management import call_command
from django.db import connection
from django.test import Client
call_command("migrate", verbosity=0)
tables = [t for t in connection.introspection.table_names() if t.startswith("wecom_sim")]
client = Client()
print(tables, client.get("/dev/chat/").status_code, client.get("/_wecom/cgi-bin/gettoken").status_code)
"""
    result = _run(code, tmp_path, **PRODUCTION, WECOM_SIMULATOR="false", ALLOWED_HOSTS="testserver")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] 404 404"


def test_production_has_no_demo_generator(tmp_path):
    code = """
import django; django.setup()
from django.apps import apps
from django.core.management import get_commands
print(apps.is_installed("scrm.devtools"), "seed_demo" in get_commands())
"""
    result = _run(code, tmp_path, **PRODUCTION, WECOM_SIMULATOR="false")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False False"


def test_deploy_check_fails_while_the_simulator_is_installed():
    with pytest.raises(SystemCheckError, match="wecom_sim.E001"):
        call_command("check", deploy=True, fail_level="ERROR")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("redirect_uri", "status"),
    [
        ("https://evil.example/steal", 400),
        ("//evil.example/steal", 400),
        ("javascript:alert(1)", 400),
        ("http://testserver/sidebar/auth/callback", 302),
        ("/sidebar/auth/callback", 302),
    ],
)
def test_simulated_oauth_only_returns_to_our_site(client, wecom_sim, settings, redirect_uri, status):
    member = StaffFactory()
    wecom_sim.member_add(userid=member.userid, name=member.name)
    query = {"appid": settings.WECOM_CORP_ID, "redirect_uri": redirect_uri, "sim_userid": member.userid}
    assert client.get("/_wecom/connect/oauth2/authorize", query).status_code == status
