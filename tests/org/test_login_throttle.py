"""Brute force is stopped: after AXES_FAILURE_LIMIT wrong passwords even the right one is refused."""

import base64

import pytest
from django.test import override_settings
from django.urls import reverse

from scrm.org.models import Staff
from tests.factories import StaffFactory

PASSWORD = "Correct-horse-9"


@pytest.fixture
def staff_with_password(db):
    staff = StaffFactory(role=Staff.Role.MANAGER)
    staff.user.set_password(PASSWORD)
    staff.user.save()
    return staff


def _login(client, username, password):
    return client.post(reverse("console:login"), {"username": username, "password": password})


@override_settings(AXES_FAILURE_LIMIT=5)
def test_console_login_locks_after_repeated_wrong_passwords(client, staff_with_password):
    username = staff_with_password.user.username
    for _ in range(4):
        assert _login(client, username, "wrong").status_code == 200  # the form with its error
    assert _login(client, username, "wrong").status_code == 429
    response = _login(client, username, PASSWORD)
    assert response.status_code == 429
    assert "登录已暂时锁定" in response.content.decode()


@override_settings(AXES_FAILURE_LIMIT=5)
def test_a_success_before_the_limit_resets_the_count(client, staff_with_password):
    username = staff_with_password.user.username
    for _ in range(4):
        _login(client, username, "wrong")
    assert _login(client, username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, username, "wrong")
    assert _login(client, username, PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3, API_BASIC_AUTH=True)
def test_api_basic_auth_is_throttled_too(client, staff_with_password):
    staff_with_password.user.is_staff = True
    staff_with_password.user.save()
    username = staff_with_password.user.username

    def basic(password):
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        return client.get("/api/v1/materials/", HTTP_AUTHORIZATION=f"Basic {token}")

    assert basic(PASSWORD).status_code == 200
    for _ in range(3):
        assert basic("wrong").status_code in (401, 403)
    assert basic(PASSWORD).status_code in (401, 403, 429)


@override_settings(API_BASIC_AUTH=False)
def test_api_basic_auth_is_off_in_production(client, staff_with_password):
    staff_with_password.user.is_staff = True
    staff_with_password.user.save()
    token = base64.b64encode(f"{staff_with_password.user.username}:{PASSWORD}".encode()).decode()
    assert client.get("/api/v1/materials/", HTTP_AUTHORIZATION=f"Basic {token}").status_code in (401, 403)


def test_common_passwords_are_refused():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("12345678")
    with pytest.raises(ValidationError):
        validate_password("password")
