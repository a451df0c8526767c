import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from scrm.org.tasks import clear_expired_sessions


@pytest.mark.django_db
def test_expired_sessions_are_cleared_and_live_ones_kept():
    now = timezone.now()
    Session.objects.create(session_key="old", session_data="", expire_date=now - dt.timedelta(days=1))
    Session.objects.create(session_key="live", session_data="", expire_date=now + dt.timedelta(days=1))
    clear_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
