import pytest
from django.contrib.auth import SESSION_KEY

from tests.factories import StaffFactory


@pytest.mark.django_db
def test_signed_in_request_loads_user_and_staff_in_one_query(client, django_assert_num_queries):
    staff = StaffFactory()
    client.force_login(staff.user)
    client.get("/sidebar/ping/")  # warm the session cache
    # One query: the user joined with its staff row (the session comes from the cache).
    with django_assert_num_queries(1):
        assert client.get("/sidebar/ping/").status_code == 200


@pytest.mark.django_db
def test_inactive_user_is_signed_out(client):
    staff = StaffFactory()
    client.force_login(staff.user)
    staff.user.is_active = False
    staff.user.save()
    assert client.get("/sidebar/ping/").status_code == 302


@pytest.mark.django_db
def test_a_session_whose_user_is_gone_is_signed_out(client):
    staff = StaffFactory()
    client.force_login(staff.user)
    assert client.get("/sidebar/ping/").status_code == 200
    session = client.session
    session[SESSION_KEY] = str(staff.user.pk + 1000)  # a deleted user
    session.save()
    assert client.get("/sidebar/ping/").status_code == 302
