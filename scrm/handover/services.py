"""Writes of customer hand-over (客户继承). Views, tasks and the callback processing call these.

The WeCom calls run in Celery after commit. An item is claimed (pending → sending) before its
chunk is sent, so a re-run never sends it twice; a retryable error puts the chunk back to
pending, a worker that dies mid-call leaves it `sending` for the poll to reconcile.
"""

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers import events
from scrm.customers.models import FollowRelation
from scrm.handover.models import HandoverBatch, HandoverItem
from scrm.handover.reasons import FAIL_REASONS, errcode_reason, send_error_reason
from scrm.org.models import Staff
from scrm.wecom import api
from scrm.wecom.errors import WeComError

logger = logging.getLogger(__name__)

State = HandoverItem.State
CHUNK = api.MAX_BATCH
OPEN_STATES = HandoverItem.OPEN_STATES


# --- staff ------------------------------------------------------------------------------------


@transaction.atomic
def staff_mark_departed(*, staff: Staff, by: Staff) -> Staff:
    """Record that a guide left (离职): they can no longer sign in; their customers wait for 离职继承.

    Marking twice keeps the first departure time.
    """
    staff = Staff.objects.select_for_update().get(pk=staff.pk)
    if not staff.is_active:
        return staff
    if staff.pk == by.pk:
        raise ValidationError(_("不能将自己标记为离职"))
    staff.is_active = False
    staff.departed_at = timezone.now()
    staff.save(update_fields=["is_active", "departed_at", "updated_at"])
    logger.info("staff %s marked departed by %s", staff.userid, by.userid)
    return staff


@transaction.atomic
def staff_reinstate(*, staff: Staff, by: Staff) -> Staff:
    """Undo 标记离职 (恢复在职): the guide can sign in again and keeps the customers not yet handed over.

    Refused while a hand-over of their customers is in flight: it was sent through the resigned API.
    """
    staff = Staff.objects.select_for_update().get(pk=staff.pk)
    if staff.is_active:
        return staff
    in_flight = HandoverItem.objects.filter(state__in=OPEN_STATES).filter(
        Q(batch__handover=staff) | Q(relation__staff=staff)
    )
    if in_flight.exists():
        raise ValidationError(_("该导购的客户正在转接中，转接结束后才能恢复在职"))
    staff.is_active = True
    staff.departed_at = None
    staff.save(update_fields=["is_active", "departed_at", "updated_at"])
    logger.info("staff %s reinstated by %s", staff.userid, by.userid)
    return staff


# --- create -----------------------------------------------------------------------------------


def handover_batch_create(
    *,
    handover: Staff,
    takeovers: list[Staff],
    relations: list[FollowRelation],
    created_by: Staff,
    request_key: str,
    transfer_success_msg: str = "",
    selection: dict | None = None,
) -> HandoverBatch:
    """One batch with an item per relation, takeovers assigned in turn; sent to WeCom after commit.

    The same request_key again returns the batch made the first time.
    """
    existing = HandoverBatch.objects.filter(request_key=request_key).first()
    if existing is not None:
        return existing
    if not takeovers:
        raise ValidationError(_("请选择接替导购"))
    if any(t.pk == handover.pk for t in takeovers):
        raise ValidationError(_("接替导购不能是原导购"))
    if any(not t.is_active for t in takeovers):
        raise ValidationError(_("接替导购必须在职"))
    relations = sorted(relations, key=lambda r: r.pk)
    if not relations:
        raise ValidationError(_("请至少选择一位客户"))
    if any(r.staff_id != handover.pk or r.ended_at is not None for r in relations):
        raise ValidationError(_("只能转接原导购当前服务中的客户"))
    assignments = _takeovers_in_turn(relations, takeovers)
    handover.refresh_from_db(fields=["is_active"])  # the departure decides which WeCom API applies
    kind = HandoverBatch.Kind.IN_SERVICE if handover.is_active else HandoverBatch.Kind.RESIGNED
    try:
        with transaction.atomic():
            batch = HandoverBatch.objects.create(
                kind=kind,
                handover=handover,
                store=handover.store,
                created_by=created_by,
                transfer_success_msg=transfer_success_msg.strip() if kind == HandoverBatch.Kind.IN_SERVICE else "",
                selection=selection or {},
                request_key=request_key,
            )
            HandoverItem.objects.bulk_create(
                [
                    HandoverItem(
                        batch=batch,
                        relation=relation,
                        customer_id=relation.customer_id,
                        external_userid=relation.external_userid,
                        takeover=takeover,
                    )
                    for relation, takeover in zip(relations, assignments, strict=True)
                ]
            )
    except IntegrityError:
        # Another batch claimed some of these customers meanwhile (or this request raced itself).
        existing = HandoverBatch.objects.filter(request_key=request_key).first()
        if existing is not None:
            return existing
        raise ValidationError(_("部分客户已在转接中，请刷新后重新选择")) from None
    transaction.on_commit(lambda: handover_dispatch(batch.pk))
    return batch


def _takeovers_in_turn(relations: list[FollowRelation], takeovers: list[Staff]) -> list[Staff]:
    """A takeover per relation in turn, passing over a colleague who already serves that customer
    (WeCom cannot hand a customer to someone who has them already); refused if every one does."""
    serving = set(
        FollowRelation.objects.filter(
            customer_id__in={r.customer_id for r in relations},
            staff__in=takeovers,
            ended_at__isnull=True,
        ).values_list("customer_id", "staff_id")
    )
    assignments, turn = [], 0
    for relation in relations:
        free = [t for t in takeovers if (relation.customer_id, t.pk) not in serving]
        if not free:
            name = str(relation.customer)
            raise ValidationError(_("%(name)s 已由所选接替导购服务，无需转接，请取消勾选") % {"name": name})
        # Keep the round robin: the next takeover in turn who is free for this customer.
        takeover = next(t for t in takeovers[turn:] + takeovers[:turn] if t in free)
        turn = (takeovers.index(takeover) + 1) % len(takeovers)
        assignments.append(takeover)
    return assignments


def handover_dispatch(batch_id: int) -> None:
    # Imported late: tasks import services. A lost dispatch is picked up by the poll's sweep.
    from scrm.handover import tasks

    try:
        tasks.send_batch.delay(batch_id)
    except Exception:  # broker unreachable (or, when eager, an error already recorded on the items)
        logger.warning("hand-over batch %s left for the sweep", batch_id, exc_info=True)


# --- send -------------------------------------------------------------------------------------


def _claim_chunk(batch: HandoverBatch, *, resigned: bool) -> list[HandoverItem]:
    """Up to CHUNK pending items of one takeover, now `sending` with their attempt counted."""
    with transaction.atomic():
        first = batch.items.filter(state=State.PENDING).order_by("id").values_list("takeover_id", flat=True).first()
        if first is None:
            return []
        ids = list(
            batch.items.select_for_update()
            .filter(state=State.PENDING, takeover_id=first)
            .order_by("id")
            .values_list("pk", flat=True)[:CHUNK]
        )
        HandoverItem.objects.filter(pk__in=ids, state=State.PENDING).update(
            state=State.SENDING, claimed_at=timezone.now(), attempt=F("attempt") + 1, resigned=resigned
        )
    return list(
        HandoverItem.objects.filter(pk__in=ids, state=State.SENDING)
        .select_related("takeover", "customer")
        .order_by("id")
    )


def handover_batch_send(*, batch_id: int) -> int:
    """Send the batch's pending items to WeCom in chunks of ≤ 100; returns how many were sent.

    A retryable WeComError puts the failing chunk back to pending and is re-raised for the task
    to retry (earlier chunks stay sent); a permanent one fails that chunk's items with its reason.
    """
    batch = HandoverBatch.objects.select_related("handover").filter(pk=batch_id).first()
    if batch is None:
        return 0
    # WeCom takes an in-service transfer only from a guide still in service: one who left since the
    # batch was made (a retry days later) goes through the resigned API instead of failing with 40099.
    resigned = batch.resigned or not batch.handover.is_active
    sent = 0
    while chunk := _claim_chunk(batch, resigned=resigned):
        _send_chunk(batch, chunk, resigned=resigned)
        sent += len(chunk)
    return sent


def _send_chunk(batch: HandoverBatch, chunk: list[HandoverItem], *, resigned: bool) -> None:
    takeover = chunk[0].takeover
    ids = [item.external_userid for item in chunk]
    try:
        if resigned:
            answer = api.resigned_transfer_customer(
                handover_userid=batch.handover.userid, takeover_userid=takeover.userid, external_userids=ids
            )
        else:
            answer = api.transfer_customer(
                handover_userid=batch.handover.userid,
                takeover_userid=takeover.userid,
                external_userids=ids,
                transfer_success_msg=batch.transfer_success_msg,
            )
    except WeComError as exc:
        if exc.retryable:
            # The last error stays on the pending items (cleared once WeCom takes them): the batch
            # page says sending failed and will be retried instead of a silent 「待提交」.
            HandoverItem.objects.filter(pk__in=[i.pk for i in chunk], state=State.SENDING).update(
                state=State.PENDING,
                claimed_at=None,
                attempt=F("attempt") - 1,
                errcode=exc.errcode,
                reason=send_error_reason(exc),
            )
            raise
        with transaction.atomic():
            for item in chunk:
                handover_item_settle_failed(
                    item,
                    state=State.FAILED,
                    errcode=exc.errcode,
                    reason=errcode_reason(exc.errcode, exc.errmsg, resigned=resigned),
                )
        return
    codes = {c.get("external_userid"): int(c.get("errcode") or 0) for c in answer}
    now = timezone.now()
    with transaction.atomic():
        accepted = [item.pk for item in chunk if codes.get(item.external_userid) == 0]
        HandoverItem.objects.filter(pk__in=accepted, state=State.SENDING).update(
            state=State.WAITING, requested_at=now, errcode=0, reason=""
        )
        for item in chunk:
            code = codes.get(item.external_userid)
            if code == 0:
                continue
            reason = errcode_reason(code, resigned=resigned) if code is not None else _("企业微信未返回该客户的结果")
            handover_item_settle_failed(item, state=State.FAILED, errcode=code, reason=reason)


# --- outcomes ---------------------------------------------------------------------------------


def handover_item_settle_failed(
    item: HandoverItem, *, state: str, errcode: int | None, reason: str, at: dt.datetime | None = None
):
    """Mark an open item refused/failed and put it on the customer's timeline once per attempt."""
    at = at or timezone.now()
    updated = HandoverItem.objects.filter(pk=item.pk, state__in=[State.SENDING, State.WAITING]).update(
        state=state, errcode=errcode, reason=reason[:200], settled_at=at
    )
    if not updated:
        return
    item.state, item.errcode, item.reason, item.settled_at = state, errcode, reason[:200], at
    events.transfer_failed_record(
        customer=item.customer,
        staff=item.takeover,
        reason=reason,
        occurred_at=at,
        dedupe_key=item.failed_event_key,
        payload={
            "batch_id": item.batch_id,
            "external_userid": item.external_userid,
            "takeover_userid": item.takeover.userid,
            "errcode": errcode,
            "reason": reason,
        },
    )


@transaction.atomic
def handover_item_accept(*, item_id: int, at: dt.datetime | None = None) -> HandoverItem | None:
    """WeCom finished the transfer: the old relation ends, the takeover's begins, the timeline says so.

    Everything else (notes, orders and their Order.staff, tags, events) stays on the same Customer.
    """
    item = (
        HandoverItem.objects.select_for_update()
        .select_related("batch__handover", "takeover", "customer", "relation")
        .filter(pk=item_id, state__in=[State.SENDING, State.WAITING])
        .first()
    )
    if item is None:
        return None
    at = at or timezone.now()
    old = item.relation
    if old.ended_at is None:
        old.ended_at, old.ended_by = at, FollowRelation.EndedBy.TRANSFER
        old.save(update_fields=["ended_at", "ended_by", "updated_at"])
    # A sync or callback may have created the takeover's relation already.
    new = FollowRelation.objects.filter(
        staff=item.takeover, external_userid=item.external_userid, ended_at__isnull=True
    ).first()
    if new is None:
        new = FollowRelation.objects.create(
            staff=item.takeover,
            customer=item.customer,
            external_userid=item.external_userid,
            remark=old.remark,
            description=old.description,
            remark_mobiles=old.remark_mobiles,
            add_way=FollowRelation.ASSIGNED,
            state=old.state,
            added_at=at,
        )
    events.transfer_record(
        customer=item.customer,
        takeover=item.takeover,
        from_name=item.batch.handover.name,
        occurred_at=at,
        dedupe_key=item.accepted_event_key,
        payload={
            "batch_id": item.batch_id,
            "kind": HandoverBatch.Kind.RESIGNED if _via_resigned(item) else HandoverBatch.Kind.IN_SERVICE,
            "external_userid": item.external_userid,
            "from_userid": item.batch.handover.userid,
            "to_userid": item.takeover.userid,
        },
    )
    item.state, item.settled_at, item.new_relation = State.ACCEPTED, at, new
    item.errcode, item.reason = 0, ""
    item.save(update_fields=["state", "settled_at", "new_relation", "errcode", "reason", "updated_at"])
    return item


def handover_item_fail_from_callback(
    *, takeover_userid: str, external_userid: str, fail_reason: str, at: dt.datetime | None = None
) -> HandoverItem | None:
    """WeCom's transfer_fail callback (UserID is the takeover): the waiting item settles now.

    Returns the item whose failure the callback is about, also when the poll settled it first,
    so the callback records its timeline event under the item's key (once); None otherwise.
    """
    item = (
        HandoverItem.objects.select_related("takeover", "customer")
        .filter(takeover__userid=takeover_userid, external_userid=external_userid)
        .order_by("-id")
        .first()
    )
    if item is None:
        return None
    if item.state in (State.SENDING, State.WAITING):
        state, reason = FAIL_REASONS.get(fail_reason, (State.FAILED, fail_reason or _("未知原因")))
        with transaction.atomic():
            handover_item_settle_failed(item, state=state, errcode=None, reason=str(reason), at=at)
        return item
    if item.state in (State.REFUSED, State.FAILED) and item.requested_at is not None:
        return item
    return None


def _via_resigned(item: HandoverItem) -> bool:
    # Items of resigned batches sent before the `resigned` flag existed still count as resigned.
    return item.resigned or item.batch.resigned


# --- retry ------------------------------------------------------------------------------------


@transaction.atomic
def handover_batch_retry(*, batch: HandoverBatch) -> int:
    """重试失败项: refused and failed items go back to pending and are sent again after commit.

    Items whose customer has since left the old guide, or is in another open hand-over, are kept as they are.
    """
    busy = HandoverItem.objects.filter(state__in=OPEN_STATES).values("relation_id")
    items = (
        batch.items.select_for_update()
        .filter(state__in=[State.REFUSED, State.FAILED], relation__ended_at__isnull=True)
        .exclude(relation_id__in=busy)
    )
    ids = list(items.values_list("pk", flat=True))
    count = HandoverItem.objects.filter(pk__in=ids).update(
        state=State.PENDING, errcode=None, reason="", claimed_at=None, requested_at=None, settled_at=None
    )
    if count:
        transaction.on_commit(lambda: handover_dispatch(batch.pk))
    return count
