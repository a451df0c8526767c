"""Writes: creating a task (validate, then write: the task, its coupon pool and each guide's items)."""

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers.models import FollowRelation
from scrm.livecodes.models import MAX_ATTACHMENTS
from scrm.livecodes.services import ATTACHMENT_KINDS
from scrm.materials.models import Material
from scrm.materials.placeholders import PLACEHOLDERS
from scrm.org.models import Staff, Store
from scrm.segments.filters import customers_matching
from scrm.segments.models import Segment
from scrm.taskcards import coupons, quota
from scrm.taskcards.groupsend import groupsend_plan
from scrm.taskcards.models import Task, TaskItem
from scrm.taskcards.tasks import groupsend_submit

COUPON_PLACEHOLDER = "券码"
SCRIPT_PLACEHOLDERS = {*PLACEHOLDERS, COUPON_PLACEHOLDER}
_PLACEHOLDER = re.compile(r"\{([^{}\s]{1,20})\}")
SERVING_ROLES = (Staff.Role.GUIDE, Staff.Role.MANAGER)


@dataclass
class TaskDraft:
    name: str
    starts_at: dt.datetime
    deadline: dt.datetime
    spec: dict = field(default_factory=dict)
    segment: Segment | None = None
    material: Material | None = None
    script: str = ""
    coupon_mode: str = Task.CouponMode.NONE
    coupon_codes: list[str] = field(default_factory=list)
    order_window_days: int = 7
    stores: list[Store] = field(default_factory=list)
    guides: list[Staff] = field(default_factory=list)
    request_key: str | None = None
    kind: str = Task.Kind.CARD
    attachments: list[Material] = field(default_factory=list)


def script_unknown_placeholders(script: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER.findall(script) if name not in SCRIPT_PLACEHOLDERS})


def _groupsend_errors(draft: TaskDraft) -> list[str]:
    """A group send is one message for all: text and/or up to 9 attachments, nothing per customer."""
    errors = []
    if not draft.script.strip() and not draft.attachments:
        errors.append(_("企业群发需要填写群发文字或选择附件。"))
    if draft.material:
        errors.append(_("企业群发请在「群发附件」中选择素材。"))
    if len(draft.attachments) > MAX_ATTACHMENTS:
        errors.append(_("企业群发最多 %(n)s 个附件。") % {"n": MAX_ATTACHMENTS})
    if any(m.kind not in ATTACHMENT_KINDS for m in draft.attachments):
        errors.append(_("群发附件只能是图片、链接、小程序、视频或文件。"))
    if _PLACEHOLDER.search(draft.script):
        errors.append(_("企业群发的文字对每位客户都一样，不能使用占位符。"))
    if draft.coupon_mode != Task.CouponMode.NONE:
        errors.append(_("企业群发不能发券，请改用任务卡。"))
    return errors


def _validate(draft: TaskDraft, now: dt.datetime) -> None:
    """Every rule at once, so the form shows all of them (Zulip style: validate, then write)."""
    errors: list[str] = []
    if not draft.name.strip():
        errors.append(_("请填写任务名称。"))
    if draft.kind == Task.Kind.GROUPSEND:
        errors += _groupsend_errors(draft)
    elif bool(draft.material) == bool(draft.script.strip()):
        errors.append(_("请选择一个素材或填写话术（二选一）。"))
    if draft.script and (unknown := script_unknown_placeholders(draft.script)):
        names = "、".join(f"{{{n}}}" for n in unknown)
        errors.append(_("话术含有无法自动填写的占位符：%(names)s。") % {"names": names})
    if draft.coupon_mode != Task.CouponMode.NONE and f"{{{COUPON_PLACEHOLDER}}}" not in draft.script:
        errors.append(_("发券的任务需要在话术中写上 {券码}，发送时自动填入每位客户的券码。"))
    if draft.coupon_mode == Task.CouponMode.UPLOAD and not draft.coupon_codes:
        errors.append(_("请上传券码文件。"))
    if draft.deadline <= draft.starts_at:
        errors.append(_("截止时间须晚于开始时间。"))
    if draft.deadline <= now:
        errors.append(_("截止时间已过。"))
    if not draft.stores and not draft.guides:
        errors.append(_("请选择任务下发的门店或导购。"))
    if errors:
        raise ValidationError(errors)
    if draft.coupon_mode == Task.CouponMode.UPLOAD:
        coupons.codes_check_free(codes=draft.coupon_codes)


def task_guides(*, task: Task) -> QuerySet[Staff]:
    """Active guides the task goes to: those named, and the serving staff of the stores named."""
    named = Q(pk__in=task.guides.values("pk")) | Q(store__in=task.stores.values("pk"))
    guides = Staff.objects.filter(named, is_active=True, role__in=SERVING_ROLES)
    return guides.filter(store_id=task.store_id) if task.store_id else guides


def _items_create(task: Task) -> int:
    """One item per customer of the audience that a target guide serves now; a customer served by two
    of them goes to the one who added them first. A group send leaves out customers who have received
    this month's quota of brand group messages (counted on the task)."""
    audience = customers_matching(spec=task.spec)
    relations = (
        FollowRelation.objects.filter(
            ended_at__isnull=True, staff__in=task_guides(task=task), customer__in=audience.values("pk")
        )
        .order_by("customer_id", "added_at", "pk")
        .values_list("customer_id", "staff_id")
    )
    owners: dict[int, int] = {}
    for customer_id, staff_id in relations:
        owners.setdefault(customer_id, staff_id)
    if task.kind == Task.Kind.GROUPSEND:
        full = quota.customers_at_limit(customer_ids=owners)
        owners = {c: s for c, s in owners.items() if c not in full}
        task.quota_excluded = len(full)
        task.save(update_fields=["quota_excluded"])
    items = [TaskItem(task=task, customer_id=c, staff_id=s) for c, s in owners.items()]
    TaskItem.objects.bulk_create(items, batch_size=1000, ignore_conflicts=True)
    return len(items)


def _task_write(*, draft: TaskDraft, spec: dict, staff: Staff) -> Task:
    with transaction.atomic():
        task = Task.objects.create(
            request_key=draft.request_key or None,
            kind=draft.kind,
            name=draft.name.strip(),
            segment=draft.segment,
            spec=spec,
            material=draft.material,
            script=draft.script.strip(),
            coupon_mode=draft.coupon_mode,
            starts_at=draft.starts_at,
            deadline=draft.deadline,
            order_window_days=draft.order_window_days,
            store_id=None if staff.role == Staff.Role.ADMIN else staff.store_id,
            created_by=staff,
        )
        task.stores.set(draft.stores)
        task.guides.set(draft.guides)
        task.attachments.set(draft.attachments)
        count = _items_create(task)
        if task.kind == Task.Kind.GROUPSEND:
            groupsend_plan(task=task)
            if task.starts_at <= timezone.now():
                transaction.on_commit(lambda: groupsend_submit.delay(task.pk))
        if draft.coupon_mode == Task.CouponMode.UPLOAD:
            coupons.codes_add(task=task, codes=draft.coupon_codes)
        elif draft.coupon_mode == Task.CouponMode.GENERATE:
            coupons.codes_generate(task=task, count=count)
    return task


def task_create(*, draft: TaskDraft, staff: Staff, now: dt.datetime | None = None) -> Task:
    """A manager's task stays in their store; the audience is the segment's filter frozen now."""
    now = now or timezone.now()
    if draft.request_key and (done := Task.objects.filter(request_key=draft.request_key).first()):
        return done  # the same form submitted again
    _validate(draft, now)
    spec = draft.segment.spec if draft.segment else draft.spec
    try:
        return _task_write(draft=draft, spec=spec, staff=staff)
    except IntegrityError:
        if draft.request_key and (done := Task.objects.filter(request_key=draft.request_key).first()):
            return done  # a concurrent double submit: the other request made it
        raise
