"""App messages (WeCom message/send, template_card) about 今日: the morning digest and urgent items.

Pushes respect the admin's quiet hours (nothing is sent inside them: the digest waits, urgent items
wait until the hours end and are dropped once a day old) and at most `urgent_daily_limit` urgent
messages per guide and day. A refused send (WeCom's per-member limits answer 45009) is logged; the
digest is retried on the next run, an urgent item on the next sweep.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scrm.org.models import Staff
from scrm.today import selectors
from scrm.today.models import PushLog, ReminderItem, ReminderKind, ReminderSettings
from scrm.today.presentation import reminder_reason
from scrm.wecom import api
from scrm.wecom.errors import WeComError

logger = logging.getLogger(__name__)

# After the digest time, how long a digest that could not go out is still worth sending.
DIGEST_LATE_HOURS = 4
URGENT_MAX_AGE = dt.timedelta(hours=24)


def workbench_url() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("sidebar:today")


def in_quiet_hours(at: dt.datetime, cfg: ReminderSettings) -> bool:
    t = timezone.localtime(at).time()
    start, end = cfg.quiet_start, cfg.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end  # overnight, e.g. 21:00–08:00


def _card(*, title: str, desc: str, lines: list[tuple[str, str]]) -> dict:
    url = workbench_url()
    return {
        "msgtype": "template_card",
        "template_card": {
            "card_type": "text_notice",
            "source": {"desc": str(_("导购助手"))},
            "main_title": {"title": title[:26], "desc": desc[:30]},
            "horizontal_content_list": [{"keyname": k[:5], "value": v[:26]} for k, v in lines[:6]],
            "jump_list": [{"type": 1, "title": str(_("打开今日")), "url": url}],
            "card_action": {"type": 1, "url": url},
        },
    }


def digest_message(*, customers: int, counts: dict[str, int]) -> dict:
    labels = dict(ReminderKind.choices)
    parts = [_("%(n)s 位%(kind)s") % {"n": n, "kind": labels[kind]} for kind, n in counts.items() if n]
    title = ngettext("今天 %(n)s 位客户待跟进", "今天 %(n)s 位客户待跟进", customers) % {"n": customers}
    desc = "、".join(parts[:3]) + ("…" if len(parts) > 3 else "")
    lines = [(str(labels[kind]), _("%(n)s 位") % {"n": n}) for kind, n in counts.items() if n]
    return _card(title=title, desc=desc, lines=lines)


def _send(*, staff: Staff, msg: dict, log: PushLog) -> bool:
    try:
        result = api.message_send(userids=[staff.userid], msg=msg)
    except WeComError as exc:
        log.status, log.errcode = PushLog.Status.FAILED, exc.errcode
        log.save(update_fields=["status", "errcode"])
        logger.info("today push to %s refused: %s", staff.userid, exc.errcode)
        return False
    log.status, log.msgid = PushLog.Status.SENT, result.get("msgid", "")
    log.save(update_fields=["status", "msgid"])
    return True


def digests_send(*, now: dt.datetime | None = None) -> int:
    """Send today's digest to every guide with items who has not had it; returns how many went out."""
    now = now or timezone.now()
    cfg = ReminderSettings.current()
    local = timezone.localtime(now)
    start = local.replace(hour=cfg.digest_time.hour, minute=cfg.digest_time.minute, second=0, microsecond=0)
    if in_quiet_hours(now, cfg) or not (start <= local < start + dt.timedelta(hours=DIGEST_LATE_HOURS)):
        return 0
    today = local.date()
    audience = selectors.digest_audience(today=today)
    sent = 0
    for staff in Staff.objects.filter(pk__in=list(audience)).order_by("pk"):
        try:
            with transaction.atomic():
                log = PushLog.objects.create(staff=staff, kind=PushLog.Kind.DIGEST, day=today)
        except IntegrityError:
            continue  # already sent (or being sent) today
        counts = {kind: audience[staff.pk][kind] for kind in ReminderKind.values}
        customers = selectors.distinct_customers(staff_id=staff.pk, today=today)
        sent += _send(staff=staff, msg=digest_message(customers=customers, counts=counts), log=log)
    return sent


def urgent_message(item: ReminderItem, today: dt.date) -> dict:
    title = _("紧急：%(kind)s") % {"kind": item.get_kind_display()}
    desc = str(item.customer)
    return _card(title=title, desc=desc, lines=[(str(_("原因")), reminder_reason(item, today))])


def urgent_send(*, now: dt.datetime | None = None, staff_ids: list[int] | None = None) -> int:
    """Push urgent items that are due, within each guide's daily limit; returns how many went out."""
    now = now or timezone.now()
    cfg = ReminderSettings.current()
    if in_quiet_hours(now, cfg):
        return 0
    today = timezone.localdate(now)
    due = ReminderItem.objects.filter(
        state=ReminderItem.State.OPEN,
        pushed_at__isnull=True,
        urgent_at__lte=now,
        urgent_at__gte=now - URGENT_MAX_AGE,
        staff__is_active=True,
    )
    if staff_ids is not None:
        due = due.filter(staff_id__in=staff_ids)
    by_staff: dict[int, list[ReminderItem]] = {}
    for item in due.select_related("customer", "staff").order_by("staff_id", "-score", "pk"):
        by_staff.setdefault(item.staff_id, []).append(item)
    sent = 0
    for staff_id, items in by_staff.items():
        room = cfg.urgent_daily_limit - selectors.urgent_sent_today(staff_id=staff_id, today=today)
        for item in items[: max(room, 0)]:
            # Claimed first, so two sweeps never push the same item.
            if not ReminderItem.objects.filter(pk=item.pk, pushed_at__isnull=True).update(pushed_at=now):
                continue
            log = PushLog.objects.create(staff_id=staff_id, kind=PushLog.Kind.URGENT, day=today, item=item)
            if _send(staff=item.staff, msg=urgent_message(item, today), log=log):
                sent += 1
                continue
            if log.errcode in (45009, -1):  # WeCom's limit or busy: try again on the next sweep
                ReminderItem.objects.filter(pk=item.pk).update(pushed_at=None)
            break
    return sent
