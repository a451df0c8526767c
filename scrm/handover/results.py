"""Follow-up of sent hand-overs: ask WeCom's transfer_result what became of waiting (or stuck)
items and settle them; re-dispatch batches whose pending items lost their dispatch. Run by the poll.
"""

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.handover.models import HandoverBatch, HandoverItem
from scrm.handover.reasons import FAIL_REASONS
from scrm.handover.services import handover_dispatch, handover_item_accept, handover_item_settle_failed
from scrm.wecom import api
from scrm.wecom.errors import WeComError

logger = logging.getLogger(__name__)

State = HandoverItem.State
# A `sending` item older than this lost its worker; the poll asks WeCom what became of it.
STUCK_AFTER = dt.timedelta(minutes=10)
# Pending items this old lost their dispatch (broker down, retries used up); the poll sends them.
PENDING_SWEEP_AFTER = dt.timedelta(minutes=5)
# transfer_result status codes.
RESULT_SUCCESS, RESULT_WAITING, RESULT_REFUSED, RESULT_LIMIT, RESULT_NONE = 1, 2, 3, 4, 5
# The same outcomes as transfer_result reports them.
RESULT_FAILS = {RESULT_REFUSED: FAIL_REASONS["customer_refused"], RESULT_LIMIT: FAIL_REASONS["customer_limit_exceed"]}


def _result_statuses(*, resigned: bool, handover_userid: str, takeover_userid: str) -> dict[str, tuple[int, int]]:
    """{external_userid: (status, takeover_time)} from transfer_result, every page; the latest row wins."""
    call = api.resigned_transfer_result if resigned else api.transfer_result
    statuses: dict[str, tuple[int, int]] = {}
    cursor = ""
    while True:
        rows, cursor = call(handover_userid=handover_userid, takeover_userid=takeover_userid, cursor=cursor)
        for row in rows:
            statuses[row.get("external_userid", "")] = (int(row.get("status") or 0), int(row.get("takeover_time") or 0))
        if not cursor:
            return statuses


def _via_resigned_q(resigned: bool) -> Q:
    q = Q(resigned=True) | Q(batch__kind=HandoverBatch.Kind.RESIGNED)
    return q if resigned else ~q


def _followed_items():
    stuck = timezone.now() - STUCK_AFTER
    return HandoverItem.objects.filter(Q(state=State.WAITING) | Q(state=State.SENDING, claimed_at__lt=stuck))


def handover_results_poll() -> dict[str, int]:
    """Ask WeCom about every waiting (or stuck) item, one transfer_result per guide pair.

    Also re-dispatches batches whose pending items lost their dispatch. Returns counts by new state.
    """
    counts: dict[str, int] = {}
    rows = (
        _followed_items()
        .values_list("resigned", "batch__kind", "batch__handover__userid", "takeover__userid")
        .order_by()
        .distinct()
    )
    pairs = {(flag or kind == HandoverBatch.Kind.RESIGNED, h, t) for flag, kind, h, t in rows}
    for resigned, handover_userid, takeover_userid in sorted(pairs):
        try:
            statuses = _result_statuses(
                resigned=resigned, handover_userid=handover_userid, takeover_userid=takeover_userid
            )
        except WeComError as exc:
            # The next poll asks again; one pair's failure does not hold up the others.
            logger.info("transfer_result %s→%s failed: %s", handover_userid, takeover_userid, exc)
            continue
        for state, n in handover_results_apply(
            resigned=resigned, handover_userid=handover_userid, takeover_userid=takeover_userid, statuses=statuses
        ).items():
            counts[state] = counts.get(state, 0) + n
    for batch_id in handover_stale_batch_ids():
        handover_dispatch(batch_id)
    return counts


def handover_results_apply(
    *, resigned: bool, handover_userid: str, takeover_userid: str, statuses: dict[str, tuple[int, int]]
) -> dict[str, int]:
    """Apply one pair's transfer_result answer (of the API the items went through) to its waiting/stuck items."""
    items = list(
        _followed_items()
        .filter(_via_resigned_q(resigned), batch__handover__userid=handover_userid, takeover__userid=takeover_userid)
        .select_related("takeover", "customer")
    )
    counts: dict[str, int] = {}
    resend: set[int] = set()
    for item in items:
        status, takeover_time = statuses.get(item.external_userid, (0, 0))
        new_state = None
        if status == RESULT_SUCCESS:
            at = dt.datetime.fromtimestamp(takeover_time, tz=dt.UTC) if takeover_time else None
            if handover_item_accept(item_id=item.pk, at=at):
                new_state = State.ACCEPTED
        elif status in RESULT_FAILS:
            state, reason = RESULT_FAILS[status]
            with transaction.atomic():
                handover_item_settle_failed(item, state=state, errcode=None, reason=str(reason))
            new_state = state
        elif item.state == State.SENDING:
            if status == RESULT_WAITING:
                HandoverItem.objects.filter(pk=item.pk, state=State.SENDING).update(
                    state=State.WAITING, requested_at=timezone.now(), errcode=0, reason=""
                )
                new_state = State.WAITING
            else:
                # WeCom never got the request: send it again.
                HandoverItem.objects.filter(pk=item.pk, state=State.SENDING).update(
                    state=State.PENDING, claimed_at=None, attempt=F("attempt") - 1
                )
                resend.add(item.batch_id)
                new_state = State.PENDING
        elif status == RESULT_NONE:
            with transaction.atomic():
                handover_item_settle_failed(
                    item, state=State.FAILED, errcode=None, reason=_("企业微信没有这次转接的记录")
                )
            new_state = State.FAILED
        if new_state:
            counts[new_state] = counts.get(new_state, 0) + 1
    for batch_id in sorted(resend):
        transaction.on_commit(lambda pk=batch_id: handover_dispatch(pk))
    return counts


def handover_stale_batch_ids() -> list[int]:
    cutoff = timezone.now() - PENDING_SWEEP_AFTER
    return list(
        HandoverItem.objects.filter(state=State.PENDING, updated_at__lt=cutoff)
        .order_by()
        .values_list("batch_id", flat=True)
        .distinct()[:100]
    )
