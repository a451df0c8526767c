"""Welcomes cut mid-send: a row left `sending` by a worker that died is settled, never retried.

`welcome_send` stores its row before calling WeCom, so a worker killed (OOM, deploy, lost node) between
the two, or during the call, leaves the row `sending` for ever. Whether WeCom delivered it cannot be
asked (WeCom has no lookup by WelcomeCode), and the code is dead after 20 s, so sending again is
impossible: the row is marked failed with the reason, which the admin's 欢迎语发送记录 list shows.
"""

import datetime as dt
import logging

from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.livecodes.models import WelcomeSend

logger = logging.getLogger(__name__)
# WeCom's 20 s window, plus the send task's hard time limit (25 s): past this nobody is still sending.
STALE_AFTER = dt.timedelta(seconds=60)


def welcome_sends_settle_stale(*, now: dt.datetime | None = None) -> int:
    """Mark welcomes still `sending` long after WeCom's window as failed; how many."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    reason = _("发送中断：处理进程在发送时退出，企业微信是否已送达未知；欢迎码已失效，不再重发")
    settled = WelcomeSend.objects.filter(status=WelcomeSend.Status.SENDING, received_at__lt=cutoff).update(
        status=WelcomeSend.Status.FAILED, error=reason[:255]
    )
    if settled:
        logger.warning("%d welcome message(s) cut mid-send marked failed (delivery unknown)", settled)
    return settled
