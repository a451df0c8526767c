"""A welcome cut mid-send (the worker died after storing its row) does not stay 发送中 for ever (#13)."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from scrm.livecodes import services, tasks
from scrm.livecodes.models import WelcomeSend
from scrm.livecodes.welcome_sweep import welcome_sends_settle_stale
from scrm.wecom.simulator.models import SimChatMessage

pytestmark = pytest.mark.django_db(transaction=True)


class WorkerKilled(BaseException):
    """What a SIGKILLed worker looks like from inside: nothing after this line runs."""


def _task_args(scan, code, received_at) -> tuple:
    return (scan.welcome_code, scan.userid, scan.external_userid, code.state, received_at.isoformat())


def test_a_welcome_cut_mid_send_is_marked_failed_for_the_admin_and_never_resent(
    sim_scene, make_code, monkeypatch, client
):
    guide = sim_scene["guides"][0]
    code = make_code(guides=[guide], spread_mode="single", welcome_text="欢迎～")
    code.refresh_from_db()
    scan = sim_scene["sim"].contact_way_scan(config_id=code.config_id, name="中断", send=False)
    received = timezone.now()

    def killed(**kwargs):
        raise WorkerKilled

    with monkeypatch.context() as patch:
        patch.setattr(services.api, "send_welcome_msg", killed)
        with pytest.raises(WorkerKilled):
            tasks.send_welcome(*_task_args(scan, code, received))
    # The broker redelivers the unacknowledged task: the stored row stops it from sending twice …
    assert tasks.send_welcome(*_task_args(scan, code, received)) == WelcomeSend.Status.SENDING
    assert not SimChatMessage.objects.filter(msgtype="welcome", external_userid=scan.external_userid).exists()

    # … and a minute later the sweep settles it, still without sending.
    assert welcome_sends_settle_stale(now=received + dt.timedelta(seconds=30)) == 0
    assert welcome_sends_settle_stale(now=received + dt.timedelta(seconds=61)) == 1
    row = WelcomeSend.objects.get(welcome_code=scan.welcome_code)
    assert row.status == WelcomeSend.Status.FAILED and "发送中断" in row.error and row.sent_at is None
    assert not SimChatMessage.objects.filter(msgtype="welcome", external_userid=scan.external_userid).exists()

    # The admin's list of welcome sends shows it failed, and why.
    superuser = get_user_model().objects.create_superuser("root", password="x" * 12)
    client.force_login(superuser)
    html = client.get("/admin/livecodes/welcomesend/", {"status__exact": "failed"}).content.decode()
    assert scan.welcome_code in html and "发送中断" in html


def test_the_sweep_leaves_sent_and_recent_welcomes_alone(db):
    now = timezone.now()
    old = now - dt.timedelta(minutes=5)
    rows = {
        "sending-now": WelcomeSend.Status.SENDING,
        "sent-old": WelcomeSend.Status.SENT,
        "expired-old": WelcomeSend.Status.EXPIRED,
    }
    for welcome_code, status in rows.items():
        received = now if welcome_code.endswith("now") else old
        WelcomeSend.objects.create(
            welcome_code=welcome_code, userid="g1", external_userid="wm1", status=status, received_at=received
        )

    assert welcome_sends_settle_stale(now=now) == 0
    assert dict(WelcomeSend.objects.values_list("welcome_code", "status")) == rows


def test_the_sweep_runs_every_minute():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("settle_stale_welcomes"))
    assert entry["schedule"] <= 60 and entry["task"] == tasks.settle_stale_welcomes.name
