"""Processing stored callbacks: `inbox_process` applies one CallbackInbox row once.

Fetching from WeCom happens before the row is locked, so no transaction waits on the network.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers import events
from scrm.customers.models import Customer, FollowRelation, Identity, IdentityKind
from scrm.customers.services import customer_figures_refresh_later
from scrm.org.models import Staff
from scrm.wecom import api, signals
from scrm.wecom.callbacks import inbox_dispatch
from scrm.wecom.chat_archive import chat_archive_pull
from scrm.wecom.contacts import (
    contact_upsert,
    corp_tags_apply,
    follow_tag_ids,
    relation_end,
    staff_upsert_from_wecom,
    unknown_tag_ids,
    wecom_time,
)
from scrm.wecom.errors import WeComError
from scrm.wecom.models import CallbackInbox

logger = logging.getLogger(__name__)

INBOX_MAX_ATTEMPTS = 5


@dataclass
class Fetched:
    """What processing needed from WeCom, fetched before any row is locked."""

    user: dict | None = None
    contact: dict | None = None
    corp_tags: list[dict] | None = None


class Skip(Exception):
    """Nothing to do for this event; the reason is recorded on the row."""


def _customer_of(external_userid: str) -> Customer | None:
    identity = (
        Identity.objects.select_related("customer").filter(kind=IdentityKind.WECOM, value=external_userid).first()
    )
    return identity.customer if identity else None


def _staff_of(userid: str, fetched: Fetched) -> Staff:
    staff = Staff.objects.filter(userid=userid).first()
    if staff is not None:
        return staff
    if fetched.user is None:
        raise Skip(_("未知的企业微信成员 %(userid)s") % {"userid": userid})
    return staff_upsert_from_wecom(user=fetched.user)[0]


def inbox_fetch(*, payload: dict) -> Fetched:
    """Everything processing `payload` needs from WeCom. Raises WeComError."""
    fetched = Fetched()
    event, change = payload.get("Event"), payload.get("ChangeType")
    if event == "change_external_tag":
        fetched.corp_tags = api.corp_tag_list()
        return fetched
    if event != "change_external_contact":
        return fetched
    userid = payload.get("UserID") or ""
    if userid and not Staff.objects.filter(userid=userid).exists():
        try:
            fetched.user = api.user_get(userid)
        except WeComError as exc:
            if exc.retryable or change in ("add_external_contact", "add_half_external_contact"):
                raise
            # A member who already left cannot be fetched; a delete still goes on the timeline.
    if change in ("add_external_contact", "add_half_external_contact", "edit_external_contact"):
        ext = payload.get("ExternalUserID") or ""
        # An add's welcome has usually just fetched the contact; an edit always asks WeCom afresh.
        fetched.contact = (
            api.external_contact_get_fresh(ext) if change == "add_external_contact" else (api.external_contact_get(ext))
        )
        follow = _follow_of(fetched.contact, userid)
        if follow and unknown_tag_ids(follow_tag_ids(follow)):
            fetched.corp_tags = api.corp_tag_list()
    return fetched


def _follow_of(contact: dict, userid: str) -> dict | None:
    return next((f for f in contact.get("follow_user") or [] if f.get("userid") == userid), None)


def _apply_contact_added(row: CallbackInbox, payload: dict, fetched: Fetched) -> None:
    staff = _staff_of(row.userid, fetched)
    follow = _follow_of(fetched.contact, row.userid)
    if follow is None:
        # Deleted again before we got here; the delete event ends nothing then, which is right.
        raise Skip(_("客户已不在该成员的好友列表"))
    if fetched.corp_tags is not None:
        corp_tags_apply(groups=fetched.corp_tags)
    result = contact_upsert(
        staff=staff, external_contact=fetched.contact["external_contact"], follow=follow, state=payload.get("State", "")
    )
    state = payload.get("State") or follow.get("state") or ""
    occurred_at = wecom_time(payload.get("CreateTime"))
    # E.g. a 渠道活码's add: livecodes counts it against the guide's cap, tags the customer, names the source.
    source = signals.first_answer(
        signals.contact_added.send(
            sender=CallbackInbox,
            relation=result.relation,
            customer=result.customer,
            staff=staff,
            state=state,
            added_at=occurred_at,
        )
    )
    events.friend_added_record(
        customer=result.customer,
        staff=staff,
        occurred_at=occurred_at,
        dedupe_key=f"wecom:cb:{row.key}",
        external_userid=row.external_userid,
        add_way=result.relation.add_way,
        state=state,
        source_label=source.label if source else "",
        extra={
            "welcome_code": payload.get("WelcomeCode") or "",
            "half": row.change_type == "add_half_external_contact",
            **(source.payload if source else {}),
        },
    )


def _apply_contact_edited(row: CallbackInbox, payload: dict, fetched: Fetched) -> None:
    staff = _staff_of(row.userid, fetched)
    follow = _follow_of(fetched.contact, row.userid)
    if follow is None:
        raise Skip(_("客户已不在该成员的好友列表"))
    if fetched.corp_tags is not None:
        corp_tags_apply(groups=fetched.corp_tags)
    result = contact_upsert(staff=staff, external_contact=fetched.contact["external_contact"], follow=follow)
    if not (result.changes or result.tags_added or result.tags_removed or result.created):
        return
    events.friend_edited_record(
        customer=result.customer,
        staff=staff,
        occurred_at=wecom_time(payload.get("CreateTime")),
        dedupe_key=f"wecom:cb:{row.key}",
        external_userid=row.external_userid,
        changes={k: v[1] for k, v in result.changes.items()},
        tags_added=result.tags_added,
        tags_removed=result.tags_removed,
    )


def _apply_contact_deleted(row: CallbackInbox, payload: dict, fetched: Fetched, *, by: str) -> None:
    customer = _customer_of(row.external_userid)
    if customer is None:
        raise Skip(_("本地没有这个客户"))
    staff = Staff.objects.filter(userid=row.userid).first()
    if staff is None and fetched.user:
        staff = staff_upsert_from_wecom(user=fetched.user)[0]
    occurred_at = wecom_time(payload.get("CreateTime"))
    if staff is not None:
        relation_end(staff=staff, external_userid=row.external_userid, ended_by=by, ended_at=occurred_at)
    by_customer = by == FollowRelation.EndedBy.CUSTOMER
    if by_customer:
        # Losing the guide is a churn signal: lifecycle and churn risk change now.
        customer_figures_refresh_later(customer_ids=[customer.pk])
    events.friend_deleted_record(
        customer=customer,
        staff=staff,
        staff_name=staff.name if staff else row.userid,
        userid=row.userid,
        external_userid=row.external_userid,
        by_customer=by_customer,
        occurred_at=occurred_at,
        dedupe_key=f"wecom:cb:{row.key}",
    )


_FAIL_REASONS = {
    "customer_refused": _("客户拒绝转接"),
    "customer_limit_exceed": _("接替成员的客户数已达上限"),
}


def _apply_transfer_fail(row: CallbackInbox, payload: dict, fetched: Fetched) -> None:
    customer = _customer_of(row.external_userid)
    if customer is None:
        raise Skip(_("本地没有这个客户"))
    staff = Staff.objects.filter(userid=row.userid).first()
    reason = payload.get("FailReason") or ""
    # UserID is the takeover. A hand-over item waiting on this settles now; its key is shared with
    # the transfer_result poll, so the timeline gets one event whichever comes first.
    item_key = signals.first_answer(
        signals.transfer_failed.send(
            sender=CallbackInbox,
            takeover_userid=row.userid,
            external_userid=row.external_userid,
            fail_reason=reason,
            at=wecom_time(payload.get("CreateTime")),
        )
    )
    events.transfer_failed_record(
        customer=customer,
        staff=staff,
        reason=str(_FAIL_REASONS.get(reason, reason or _("未知原因"))),
        occurred_at=wecom_time(payload.get("CreateTime")),
        dedupe_key=item_key or f"wecom:cb:{row.key}",
        payload={"userid": row.userid, "external_userid": row.external_userid, "reason": reason},
    )


def _apply(row: CallbackInbox, fetched: Fetched) -> None:
    payload, change = row.payload, row.change_type
    if row.event == "change_external_tag":
        corp_tags_apply(groups=fetched.corp_tags or [])
    elif row.event == "msgaudit_notify":
        chat_archive_pull()
    elif row.event != "change_external_contact":
        raise Skip(_("不处理的事件类型 %(event)s") % {"event": row.event or payload.get("MsgType", "")})
    elif not row.userid or not row.external_userid:
        raise Skip(_("事件缺少 UserID 或 ExternalUserID"))
    elif change in ("add_external_contact", "add_half_external_contact"):
        _apply_contact_added(row, payload, fetched)
    elif change == "edit_external_contact":
        _apply_contact_edited(row, payload, fetched)
    elif change == "del_external_contact":
        _apply_contact_deleted(row, payload, fetched, by=FollowRelation.EndedBy.STAFF)
    elif change == "del_follow_user":
        _apply_contact_deleted(row, payload, fetched, by=FollowRelation.EndedBy.CUSTOMER)
    elif change == "transfer_fail":
        _apply_transfer_fail(row, payload, fetched)
    else:
        raise Skip(_("不处理的变更类型 %(change)s") % {"change": change})


def inbox_process(*, row_id: int) -> str:
    """Apply one stored callback once; returns the row's status afterwards.

    The status guard under select_for_update makes a second run (redelivered task, sweep)
    a no-op. Failures are recorded on the row: retryable ones stay pending for the sweep
    until INBOX_MAX_ATTEMPTS, permanent ones are marked failed at once.
    """
    row = CallbackInbox.objects.filter(pk=row_id).first()
    if row is None or row.status != CallbackInbox.Status.PENDING:
        return row.status if row else ""
    try:
        fetched = inbox_fetch(payload=row.payload)
        with transaction.atomic():
            row = CallbackInbox.objects.select_for_update().get(pk=row_id)
            if row.status != CallbackInbox.Status.PENDING:
                return row.status
            try:
                with transaction.atomic():
                    _apply(row, fetched)
                row.status, row.last_error = CallbackInbox.Status.DONE, ""
            except Skip as skip:
                row.status, row.last_error = CallbackInbox.Status.SKIPPED, str(skip)[:255]
            row.attempts += 1
            row.processed_at = timezone.now()
            row.save(update_fields=["status", "last_error", "attempts", "processed_at"])
            return row.status
    except WeComError as exc:
        return _inbox_failed(row_id, f"{exc.errcode}: {exc.reason}", retryable=exc.retryable)
    except Exception as exc:
        # A bug or a database hiccup: keep the row, record why, let the sweep try again.
        logger.exception("callback inbox %s failed", row_id)
        return _inbox_failed(row_id, f"{type(exc).__name__}: {exc}", retryable=True)


def _inbox_failed(row_id: int, error: str, *, retryable: bool) -> str:
    row = CallbackInbox.objects.get(pk=row_id)
    if row.status != CallbackInbox.Status.PENDING:
        return row.status
    attempts = row.attempts + 1
    status = (
        CallbackInbox.Status.PENDING if retryable and attempts < INBOX_MAX_ATTEMPTS else CallbackInbox.Status.FAILED
    )
    CallbackInbox.objects.filter(pk=row_id, status=CallbackInbox.Status.PENDING).update(
        attempts=attempts, last_error=error[:255], status=status, processed_at=timezone.now()
    )
    return status


def inbox_pending_ids(*, older_than: dt.timedelta = dt.timedelta(minutes=1)) -> list[int]:
    """Pending rows the sweep should process: older than a normal dispatch takes."""
    cutoff = timezone.now() - older_than
    return list(
        CallbackInbox.objects.filter(status=CallbackInbox.Status.PENDING, received_at__lt=cutoff)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:500]
    )


def inbox_retry(*, row_ids: list[int]) -> int:
    """Admin's 重新处理: failed rows go back to pending and are dispatched again."""
    ids = list(
        CallbackInbox.objects.filter(pk__in=row_ids, status=CallbackInbox.Status.FAILED).values_list("pk", flat=True)
    )
    CallbackInbox.objects.filter(pk__in=ids).update(status=CallbackInbox.Status.PENDING, attempts=0, last_error="")
    for pk in ids:
        transaction.on_commit(lambda pk=pk: inbox_dispatch(pk))
    return len(ids)
