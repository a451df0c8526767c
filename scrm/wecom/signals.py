"""What the callback path announces. Apps that act on it (livecodes, handover) connect receivers in
their AppConfig.ready, so wecom never imports them. Where the dispatcher needs an answer (the
timeline event's title or key) it reads the receivers' return values, which Signal.send hands back.
Receivers run in the sender's transaction and their exceptions propagate, as a direct call would.
"""

from dataclasses import dataclass, field

from django.dispatch import Signal

# An add_external_contact callback was stored and committed; sent before its inbox row is handed to
# Celery, since WeCom's WelcomeCode is valid for 20 seconds only. kwargs: payload (the callback's
# fields: WelcomeCode, State, UserID, ExternalUserID, ...), received_at. Receivers only queue work.
contact_add_received = Signal()

# The dispatcher applied an add, inside its transaction, before recording the timeline event.
# kwargs: relation, customer, staff, state, added_at. A receiver that knows the state returns an
# AddSource; the first answer names the event's source and extends its payload.
contact_added = Signal()

# WeCom's transfer_fail callback (UserID is the takeover). kwargs: takeover_userid, external_userid,
# fail_reason, at. A receiver that owns the transfer settles it and returns the timeline event's
# dedupe key its own poll uses, so the customer gets one event whichever comes first.
transfer_failed = Signal()


@dataclass(frozen=True)
class AddSource:
    """A contact_added receiver's answer: where the add came from."""

    label: str
    payload: dict = field(default_factory=dict)


def first_answer(responses: list[tuple[object, object]]):
    """The first receiver's answer that is not None (Signal.send returns (receiver, answer) pairs)."""
    return next((answer for _receiver, answer in responses if answer is not None), None)
