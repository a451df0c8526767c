"""Writes of 自动化任务 (SOP rules): create (validate, then write), enable and disable.

A rule made or enabled is evaluated at once for the customers it can reach (through the same
after-commit recompute as any changed fact); a disabled rule's live items lapse at once.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers.models import FollowRelation
from scrm.materials.models import Material
from scrm.org.models import Staff
from scrm.segments.filters import customers_matching
from scrm.segments.models import Segment
from scrm.today.hooks import facts_changed
from scrm.today.models import ReminderItem, ReminderKind, SopRule

MAX_DAYS = 8
MAX_OFFSET = 365


@dataclass
class SopDraft:
    name: str
    trigger: str
    days: list[int]
    material: Material | None
    segment: Segment | None = None
    window_days: int = 3
    request_key: str | None = None


def _validate(draft: SopDraft) -> None:
    errors = []
    if not draft.name.strip():
        errors.append(_("请填写规则名称。"))
    if draft.trigger not in SopRule.Trigger.values:
        errors.append(_("请选择触发时机。"))
    if not draft.days or len(draft.days) > MAX_DAYS:
        errors.append(_("请填写 1 到 %(n)s 个天数，如 0,1,3,7。") % {"n": MAX_DAYS})
    elif any(not 0 <= d <= MAX_OFFSET for d in draft.days):
        errors.append(_("天数须在 0 到 %(n)s 之间。") % {"n": MAX_OFFSET})
    if draft.material is None:
        errors.append(_("请选择要发送的素材。"))
    if not 1 <= draft.window_days <= 30:
        errors.append(_("提醒保留天数须在 1 到 30 之间。"))
    if errors:
        raise ValidationError(errors)


def _reachable(rule: SopRule) -> list[int]:
    """Customers the rule can give items for: served now by a guide in its scope (and in its segment)."""
    relations = FollowRelation.objects.filter(ended_at__isnull=True, staff__is_active=True)
    if rule.store_id:
        relations = relations.filter(staff__store_id=rule.store_id)
    ids = relations.values("customer_id")
    if rule.segment is not None:
        return list(customers_matching(spec=rule.segment.spec).filter(pk__in=ids).values_list("pk", flat=True))
    return list(ids.values_list("customer_id", flat=True).distinct())


def sop_rule_create(*, draft: SopDraft, staff: Staff) -> SopRule:
    """A manager's rule reaches their store's guides; an admin's the whole brand. A resubmitted form is one rule."""
    if draft.request_key and (done := SopRule.objects.filter(request_key=draft.request_key).first()):
        return done
    _validate(draft)
    try:
        with transaction.atomic():
            rule = SopRule.objects.create(
                name=draft.name.strip(), trigger=draft.trigger, days=sorted(set(draft.days)),
                segment=draft.segment, material=draft.material, window_days=draft.window_days,
                store_id=None if staff.role == Staff.Role.ADMIN else staff.store_id, created_by=staff,
                request_key=draft.request_key or None,
            )  # fmt: skip
            facts_changed(customer_ids=_reachable(rule))
    except IntegrityError:
        if draft.request_key and (done := SopRule.objects.filter(request_key=draft.request_key).first()):
            return done
        raise
    return rule


def sop_rule_set_enabled(*, rule: SopRule, enabled: bool, now: dt.datetime | None = None) -> SopRule:
    now = now or timezone.now()
    with transaction.atomic():
        SopRule.objects.filter(pk=rule.pk).update(enabled=enabled)
        rule.enabled = enabled
        if enabled:
            facts_changed(customer_ids=_reachable(rule))
        else:
            ReminderItem.objects.filter(
                kind=ReminderKind.SOP, occurrence__startswith=f"s{rule.pk}:", state__in=ReminderItem.LIVE_STATES
            ).update(state=ReminderItem.State.EXPIRED, closed_at=now, updated_at=now)
    return rule
