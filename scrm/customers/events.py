"""Recording the timeline: `event_record`, and one recorder per kind (Saleor's order/events.py), so each
kind's title, payload shape and dedupe key live in one place and are translatable.

The vocabulary (kinds, channels, groups) is in scrm.customers.vocabulary and is re-exported here, since
whoever records an event names its kind. Ingest paths record what brand systems send with `event_record`.
"""

import datetime as dt

from django.utils.translation import gettext as _

from scrm.customers import signals
from scrm.customers.models import Customer, Event, FollowRelation, Tag
from scrm.customers.vocabulary import (
    KIND_INFO,
    SCHEMA_VERSION,
    STATE_LABELS,
    Channel,
    EventGroup,
    EventKind,
    KindInfo,
    kinds_in_group,
)

__all__ = [
    "KIND_INFO",
    "SCHEMA_VERSION",
    "STATE_LABELS",
    "Channel",
    "EventGroup",
    "EventKind",
    "KindInfo",
    "kinds_in_group",
]


def event_record(
    *,
    customer: Customer,
    kind: str,
    occurred_at: dt.datetime,
    channel: str,
    title: str,
    dedupe_key: str,
    staff=None,
    payload: dict | None = None,
) -> tuple[Event, bool]:
    """Append a timeline event once per dedupe_key; a redelivery returns the stored one."""
    payload = {"schema": SCHEMA_VERSION, **(payload or {})}
    event, created = Event.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "customer": customer,
            "kind": kind,
            "occurred_at": occurred_at,
            "channel": channel,
            "title": title[:200],
            "staff": staff,
            "payload": payload,
        },
    )
    if created:
        signals.event_recorded.send(sender=Event, event=event)
    return event, created


# --- friends --------------------------------------------------------------------------------------


def friend_added_record(
    *,
    customer: Customer,
    staff,
    occurred_at: dt.datetime,
    dedupe_key: str,
    external_userid: str,
    add_way: int,
    state: str,
    source_label: str = "",
    extra: dict | None = None,
) -> tuple[Event, bool]:
    """The customer added a guide, from a callback or found by a sync (`extra`: what only that path knows)."""
    if source_label:
        title = _("通过「%(source)s」添加导购 %(staff)s 为好友") % {"source": source_label, "staff": staff.name}
    else:
        title = _("添加导购 %(staff)s 为好友") % {"staff": staff.name}
    payload = {"userid": staff.userid, "external_userid": external_userid, "state": state, "add_way": add_way}
    return event_record(
        customer=customer,
        kind=EventKind.FRIEND_ADDED,
        occurred_at=occurred_at,
        channel=Channel.WECOM,
        staff=staff,
        title=title,
        dedupe_key=dedupe_key,
        payload={**payload, **(extra or {})},
    )


def friend_edited_record(
    *, customer: Customer, staff, occurred_at: dt.datetime, dedupe_key: str, external_userid: str, changes: dict,
    tags_added: list, tags_removed: list,
) -> tuple[Event, bool]:  # fmt: skip
    return event_record(
        customer=customer,
        kind=EventKind.FRIEND_EDITED,
        occurred_at=occurred_at,
        channel=Channel.WECOM,
        staff=staff,
        title=_("导购 %(staff)s 更新了客户信息") % {"staff": staff.name},
        dedupe_key=dedupe_key,
        payload={
            "userid": staff.userid,
            "external_userid": external_userid,
            "changes": changes,
            "tags_added": tags_added,
            "tags_removed": tags_removed,
        },
    )


def friend_deleted_record(
    *, customer: Customer, staff, staff_name: str, userid: str, external_userid: str, by_customer: bool,
    occurred_at: dt.datetime, dedupe_key: str,
) -> tuple[Event, bool]:  # fmt: skip
    """Either side ended the friendship (`staff` may be unknown here: then only their userid/name)."""
    if by_customer:
        kind, title = EventKind.FRIEND_DELETED_BY_CUSTOMER, _("客户删除了导购 %(staff)s") % {"staff": staff_name}
    else:
        kind, title = EventKind.FRIEND_DELETED_BY_STAFF, _("导购 %(staff)s 删除了客户") % {"staff": staff_name}
    return event_record(
        customer=customer,
        kind=kind,
        occurred_at=occurred_at,
        channel=Channel.WECOM,
        staff=staff,
        title=title,
        dedupe_key=dedupe_key,
        payload={"userid": userid, "external_userid": external_userid},
    )


def transfer_record(
    *, customer: Customer, takeover, from_name: str, occurred_at: dt.datetime, dedupe_key: str, payload: dict
) -> tuple[Event, bool]:
    """A hand-over settled: the customer is now served by `takeover`."""
    return event_record(
        customer=customer,
        kind=EventKind.TRANSFER,
        occurred_at=occurred_at,
        channel=Channel.WECOM,
        title=_("从 %(from)s 转接给 %(to)s") % {"from": from_name, "to": takeover.name},
        dedupe_key=dedupe_key,
        staff=takeover,
        payload=payload,
    )


def transfer_failed_record(
    *, customer: Customer, staff, reason: str, occurred_at: dt.datetime, dedupe_key: str, payload: dict
) -> tuple[Event, bool]:
    """A hand-over to `staff` (the intended takeover, when known) failed for `reason` (readable)."""
    if staff is not None:
        title = _("转接给 %(to)s 失败：%(reason)s") % {"to": staff.name, "reason": reason}
    else:
        title = _("转接失败：%(reason)s") % {"reason": reason}
    return event_record(
        customer=customer,
        kind=EventKind.TRANSFER_FAILED,
        occurred_at=occurred_at,
        channel=Channel.WECOM,
        title=title,
        dedupe_key=dedupe_key,
        staff=staff,
        payload=payload,
    )


# --- conversation and the guide's work ------------------------------------------------------------


def chat_message_record(
    *, relation: FollowRelation, incoming: bool, msgid: str, msgtype: str, text: str, occurred_at: dt.datetime
) -> tuple[Event, bool]:
    """One archived chat message (会话存档), once per WeCom msgid."""
    who = relation.customer.name if incoming else relation.staff.name
    return event_record(
        customer=relation.customer,
        kind=EventKind.CHAT_MESSAGE,
        occurred_at=occurred_at,
        channel=Channel.WECOM,
        title=_("%(who)s：%(text)s") % {"who": who, "text": text},
        dedupe_key=f"chat:{msgid}",
        staff=relation.staff,
        payload={"msgid": msgid, "direction": "in" if incoming else "out", "msgtype": msgtype, "text": text},
    )


def note_record(
    *, customer: Customer, staff, body: str, next_contact_on: dt.date | None, occurred_at: dt.datetime, dedupe_key: str
) -> tuple[Event, bool]:
    """A guide's follow-up note: the title is its first line, the payload the whole note."""
    return event_record(
        customer=customer,
        kind=EventKind.NOTE,
        occurred_at=occurred_at,
        channel=Channel.WECOM,
        title=body.splitlines()[0][:80],
        dedupe_key=dedupe_key,
        staff=staff,
        payload={"body": body, "next_contact_on": next_contact_on.isoformat() if next_contact_on else None},
    )


def tag_changed_record(
    *, customer: Customer, staff, tag: Tag, added: bool, link_id: int, occurred_at: dt.datetime
) -> tuple[Event, bool]:
    """A tag added or removed here (WeCom's own tag edits arrive as friend_edited)."""
    kind, title, key = (
        (EventKind.TAG_ADDED, _("添加标签「%(tag)s」"), "tag_added")
        if added
        else (EventKind.TAG_REMOVED, _("移除标签「%(tag)s」"), "tag_removed")
    )
    return event_record(
        customer=customer,
        kind=kind,
        occurred_at=occurred_at,
        channel=Channel.WECOM,
        title=title % {"tag": tag.name},
        dedupe_key=f"{key}:{link_id}",
        staff=staff,
        payload={"tag_id": tag.pk, "tag": tag.name, "group": tag.group.name},
    )


def material_sent_record(*, send) -> tuple[Event, bool]:
    """A material reached the chat (a MaterialSend marked sent); once per send request."""
    material, staff = send.material, send.staff
    return event_record(
        customer=send.customer,
        kind=EventKind.MATERIAL_SENT,
        occurred_at=send.sent_at,
        channel=Channel.WECOM,
        title=_("%(staff)s发送了素材「%(title)s」") % {"staff": staff.name, "title": material.title},
        dedupe_key=f"material_sent:{send.request_id}",
        staff=staff,
        payload={
            "material_id": material.pk,
            "material_kind": material.kind,
            "title": material.title,
            "request_id": send.request_id,
        },
    )


def task_done_record(*, customer, staff, task_id: int, task_name: str, item_id: int, occurred_at) -> None:
    """A guide sent a headquarters task card (任务卡) to the customer; once per task item."""
    event_record(
        customer=customer,
        kind=EventKind.TASK_DONE,
        occurred_at=occurred_at,
        channel=Channel.WECOM,
        title=_("%(staff)s完成任务「%(task)s」") % {"staff": staff.name, "task": task_name},
        dedupe_key=f"task_done:{item_id}",
        staff=staff,
        payload={"task_id": task_id, "task": task_name, "item_id": item_id},
    )


def coupon_sent_record(*, customer, staff, task_id: int, item_id: int, code: str, occurred_at) -> None:
    """A coupon code went to the customer with a task card; once per task item (one code per item)."""
    event_record(
        customer=customer,
        kind=EventKind.COUPON_SENT,
        occurred_at=occurred_at,
        channel=Channel.WECOM,
        title=_("%(staff)s发送了优惠券 %(code)s") % {"staff": staff.name, "code": code},
        dedupe_key=f"coupon_sent:{item_id}",
        staff=staff,
        payload={"task_id": task_id, "item_id": item_id, "code": code},
    )


# --- identity ---------------------------------------------------------------------------------------


def customer_merged_record(*, merge, keep: Customer, drop: Customer) -> tuple[Event, bool]:
    """Two records were found to be one person; `keep` holds both now (undoable from the merge row)."""
    return event_record(
        customer=keep,
        kind=EventKind.CUSTOMER_MERGED,
        occurred_at=merge.created_at,
        channel=Channel.SYSTEM,
        title=_("合并了客户 %(name)s") % {"name": str(drop)},
        dedupe_key=f"customer_merged:{merge.pk}",
        payload={"merge_id": merge.pk, "drop_id": drop.pk, "reason": merge.reason},
    )
