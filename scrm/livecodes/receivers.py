"""Receivers of scrm.wecom.signals, connected in LiveCodesConfig.ready: a live code's add and welcome."""

import datetime as dt

from scrm.customers.models import Customer, FollowRelation
from scrm.livecodes.services import livecode_on_added, welcome_dispatch
from scrm.org.models import Staff
from scrm.wecom.signals import AddSource


def welcome_on_add_received(*, payload: dict, received_at: dt.datetime, **_signal) -> None:
    """An add callback was stored: queue its welcome at once (WeCom's WelcomeCode lives 20 s)."""
    welcome_dispatch(payload=payload, received_at=received_at)


def livecode_on_contact_added(
    *, relation: FollowRelation, customer: Customer, staff: Staff, state: str, added_at: dt.datetime, **_signal
) -> AddSource | None:
    """The dispatcher applied an add: a live code's state counts, tags and names the source."""
    code = livecode_on_added(relation=relation, customer=customer, staff=staff, state=state, added_at=added_at)
    if code is None:
        return None
    return AddSource(
        label=code.source_label,
        payload={"live_code_id": code.pk, "live_code": code.name, "channel_group": code.channel_group},
    )
