"""The demo's headquarters work: a saved segment and a 任务卡 with coupons, part of it already sent by
guides and a few coupons redeemed at the till, so 今日, the portrait's task card and the task's
progress all have something to show on the first visit."""

import datetime as dt
from decimal import Decimal

from django.db import transaction

from scrm.customers.events import Channel
from scrm.customers.ingest import LineData, OrderData
from scrm.customers.ingest_orders import order_upsert
from scrm.customers.models import IdentityKind, OrderStatus
from scrm.customers.services import customer_refresh_figures
from scrm.org.models import Staff, Store
from scrm.segments.models import Segment
from scrm.segments.services import segment_create
from scrm.taskcards.coupons import coupon_redeem
from scrm.taskcards.models import Task, TaskItem
from scrm.taskcards.sending import task_send_prepare, task_send_record
from scrm.taskcards.services import TaskDraft, task_create

SEGMENT_NAME = "沉睡和流失的老客"
TASK_KEY = "demo:task:vip-day-return"
SCRIPT = "{客户称呼}您好，我是{门店}的{导购姓名}。会员日回归礼：送您一张满300减50券 {券码}，本周内到店或小程序都能用～"
GIFT_SKU, GIFT_NAME, GIFT_PRICE, COUPON_OFF = (
    "LT-GS-001",
    "兰亭修护精华礼盒（精华+水+乳）",
    Decimal("699.00"),
    Decimal("50.00"),
)
SENT_SHARE, REDEEMED_SHARE = 0.4, 0.25  # of the items: sent by their guide; of those sent: redeemed


def tasks_demo_seed(*, now: dt.datetime) -> int:
    """`now` is the demo's anchor (today's midnight), so the same day gives the same rows. Idempotent:
    the task's request key makes a re-run find it instead of creating a second one."""
    if Task.objects.filter(request_key=TASK_KEY).exists():
        return 0
    admin = Staff.objects.filter(role=Staff.Role.ADMIN).order_by("pk").first()
    if admin is None:
        return 0
    segment = Segment.objects.filter(name=SEGMENT_NAME).first() or segment_create(
        name=SEGMENT_NAME, spec={"stages": ["dormant", "lost"]}, staff=admin
    )
    started = now - dt.timedelta(days=3, hours=-9)  # 09:00 three days ago
    draft = TaskDraft(
        name="会员日邀约：沉睡老客回归",
        starts_at=started,
        deadline=now + dt.timedelta(days=4, hours=22),
        segment=segment,
        script=SCRIPT,
        coupon_mode=Task.CouponMode.GENERATE,
        stores=list(Store.objects.all()),
        request_key=TASK_KEY,
    )
    task = task_create(draft=draft, staff=admin, now=started)
    items = list(task.items.select_related("task", "customer", "staff").order_by("pk"))
    sent = items[: int(len(items) * SENT_SHARE)]
    with transaction.atomic():
        for n, item in enumerate(sent):
            at = started + dt.timedelta(hours=1 + n % 60)
            prepared = task_send_prepare(item=item, staff=item.staff, now=at)
            task_send_record(item=item, staff=item.staff, request_id=prepared.request_id, status="sent", now=at)
    for n, item in enumerate(sent[: int(len(sent) * REDEEMED_SHARE)]):
        item = TaskItem.objects.select_related("coupon", "staff__store").get(pk=item.pk)
        at = min(now, item.sent_at + dt.timedelta(days=1))
        order_no = f"PDEMO{n:05d}"  # one demo task: stable across re-seeds
        _order_with_coupon(item=item, order_no=order_no, at=at)
        coupon_redeem(code=item.coupon.code, order_no=order_no, at=at)
    return len(items)


def _order_with_coupon(*, item: TaskItem, order_no: str, at: dt.datetime) -> None:
    """The till's order the coupon was used on (满300减50), so the task's 7 天内下单 counts it."""
    line = LineData(sku=GIFT_SKU, name=GIFT_NAME, unit_price=GIFT_PRICE, amount=GIFT_PRICE - COUPON_OFF)
    data = OrderData(
        paid_at=at,
        amount=GIFT_PRICE - COUPON_OFF,
        status=OrderStatus.COMPLETED,
        store_code=item.staff.store.code if item.staff.store else "",
        staff_userid=item.staff.userid,
        lines=(line,),
    )
    external_userid = item.customer.follow_relations.filter(staff=item.staff).values_list("external_userid", flat=True)
    order_upsert(channel=Channel.POS, order_no=order_no, identities={IdentityKind.WECOM: external_userid[0]}, data=data)
    # Now, not after commit in a worker that may not run in dev: the portrait shows the new order at once.
    customer_refresh_figures(customer_id=item.customer_id)
