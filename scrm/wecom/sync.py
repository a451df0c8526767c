"""Full pull from WeCom: members, corp tags, and every member's customers.

Upserts only what differs, so a second run with unchanged WeCom data writes nothing. Nothing
local is deleted: members gone from WeCom are marked departed, relations that vanished are
ended, events and notes are untouched.
"""

import logging
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers.events import friend_added_record
from scrm.customers.models import FollowRelation
from scrm.org.models import Staff
from scrm.wecom import api
from scrm.wecom.contacts import contact_upsert, corp_tags_apply, staff_upsert_from_wecom
from scrm.wecom.errors import WeComError

logger = logging.getLogger(__name__)

BATCH = api.MAX_BATCH


@dataclass
class SyncReport:
    staff_changed: int = 0
    staff_departed: int = 0
    tags_changed: int = 0
    contacts_seen: int = 0
    relations_created: int = 0
    relations_updated: int = 0
    relations_ended: int = 0
    tags_added: int = 0
    tags_removed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def staff_sync(*, report: SyncReport) -> None:
    users = api.user_list()
    if not users:
        # An empty answer is far likelier a wrong department/secret than a corp with nobody in it.
        report.errors.append(_("成员列表为空，未标记任何离职"))
        return
    seen = set()
    for user in users:
        if not user.get("userid"):
            continue
        seen.add(user["userid"])
        with transaction.atomic():
            _staff, changed = staff_upsert_from_wecom(user=user)
        report.staff_changed += int(changed)
    report.staff_departed += (
        Staff.objects.filter(is_active=True)
        .exclude(userid__in=seen)
        .update(is_active=False, departed_at=timezone.now(), updated_at=timezone.now())
    )


def tags_sync(*, report: SyncReport) -> None:
    report.tags_changed += corp_tags_apply(groups=api.corp_tag_list())


def contacts_sync(*, report: SyncReport) -> None:
    userids = api.follow_user_list()
    staff_by_userid = {s.userid: s for s in Staff.objects.filter(userid__in=userids).select_related("store")}
    missing = sorted(set(userids) - set(staff_by_userid))
    if missing:
        report.errors.append(_("未同步的成员：%(ids)s") % {"ids": ", ".join(missing[:20])})
    known = [u for u in userids if u in staff_by_userid]
    for start in range(0, len(known), BATCH):
        chunk = known[start : start + BATCH]
        seen: set[tuple[str, str]] = set()
        complete = True
        try:
            for item in api.iter_batch_get_by_user(chunk):
                try:
                    seen.add(_contact_sync(item, staff_by_userid, report))
                except (KeyError, TypeError, ValueError) as exc:
                    complete = False
                    report.errors.append(f"{type(exc).__name__}: {exc}")
                    logger.warning("wecom sync skipped a malformed contact item", exc_info=True)
        except WeComError as exc:
            complete = False
            report.errors.append(f"batch/get_by_user {exc.errcode}: {exc.reason}")
        if complete:
            # Only a complete listing proves a relation is gone; a failed page proves nothing.
            report.relations_ended += _end_vanished(chunk, seen, staff_by_userid)


def _contact_sync(item: dict, staff_by_userid: dict[str, Staff], report: SyncReport) -> tuple[str, str]:
    contact, follow = item["external_contact"], item["follow_info"]
    staff = staff_by_userid[follow["userid"]]
    with transaction.atomic():
        result = contact_upsert(staff=staff, external_contact=contact, follow=follow)
        if result.created:
            friend_added_record(
                customer=result.customer,
                staff=staff,
                occurred_at=result.relation.added_at,
                dedupe_key=f"wecom:sync:add:{staff.userid}:{contact['external_userid']}:{follow.get('createtime', '')}",
                external_userid=contact["external_userid"],
                add_way=result.relation.add_way,
                state=result.relation.state,
                extra={"source": "sync"},
            )
    report.contacts_seen += 1
    report.relations_created += int(result.created)
    report.relations_updated += int(bool(result.changes))
    report.tags_added += len(result.tags_added)
    report.tags_removed += len(result.tags_removed)
    return staff.userid, contact["external_userid"]


def _end_vanished(chunk: list[str], seen: set[tuple[str, str]], staff_by_userid: dict[str, Staff]) -> int:
    active = FollowRelation.objects.filter(
        staff__in=[staff_by_userid[u] for u in chunk], ended_at__isnull=True
    ).select_related("staff")
    gone = [r.pk for r in active if (r.staff.userid, r.external_userid) not in seen]
    if not gone:
        return 0
    # Who ended it is unknown without the callback; "staff" keeps it out of the churn signal.
    return FollowRelation.objects.filter(pk__in=gone).update(
        ended_at=timezone.now(), ended_by=FollowRelation.EndedBy.STAFF, updated_at=timezone.now()
    )


def wecom_sync_all() -> SyncReport:
    """Members, then corp tags (so contacts' tag ids map), then contacts."""
    report = SyncReport()
    steps = [("user_list", staff_sync), ("corp_tag_list", tags_sync), ("contacts", contacts_sync)]
    for name, step in steps:
        try:
            step(report=report)
        except WeComError as exc:
            report.errors.append(f"{name} {exc.errcode}: {exc.reason}")
            if name == "user_list":
                # Contacts need the members; without them the rest would only half-run.
                break
    logger.info("wecom sync: %s", report.as_dict())
    return report
