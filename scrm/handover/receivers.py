"""Receivers of scrm.wecom.signals, connected in HandoverConfig.ready."""

import datetime as dt

from scrm.handover.services import handover_item_fail_from_callback


def handover_on_transfer_failed(
    *, takeover_userid: str, external_userid: str, fail_reason: str, at: dt.datetime, **_signal
) -> str | None:
    """WeCom's transfer_fail: the waiting item settles; answers the timeline key its poll shares."""
    item = handover_item_fail_from_callback(
        takeover_userid=takeover_userid, external_userid=external_userid, fail_reason=fail_reason, at=at
    )
    return item.failed_event_key if item else None
