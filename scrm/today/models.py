"""今日: reminder items per guide, the admin's thresholds, and the app messages pushed about them.

An item is one (kind, customer, guide, occurrence): the rules (scrm.today.rules) name the occurrence
(a note, an expected-purchase date, an order line, a birthday…), so recomputing never duplicates it.
"""

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scrm.customers.models import Customer
from scrm.org.models import Staff


class ReminderKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("跟进提醒")
    REPURCHASE = "repurchase", _("复购提醒")
    REPLENISH = "replenish", _("补货提醒")
    CHURN = "churn", _("流失预警")
    BIRTHDAY = "birthday", _("生日关怀")
    DELETED = "deleted", _("删除了我")
    HANDOVER = "handover", _("转接客户")
    INTENT = "intent", _("高意向")
    SOP = "sop", _("自动化任务")


class ReminderSettings(models.Model):
    """The admin's thresholds (one row, edited in Django admin; `ReminderSettings.current()`)."""

    repurchase_days_before = models.PositiveSmallIntegerField(_("复购提前天数"), default=3)
    repurchase_days_after = models.PositiveSmallIntegerField(_("复购逾期天数"), default=7)
    replenish_days_before = models.PositiveSmallIntegerField(_("用完前提醒天数"), default=5)
    replenish_days_after = models.PositiveSmallIntegerField(_("用完后提醒天数"), default=7)
    churn_multiple = models.DecimalField(_("流失倍数（回购周期）"), max_digits=4, decimal_places=1, default=2)
    churn_no_cycle_days = models.PositiveSmallIntegerField(_("仅一单客户流失天数"), default=180)
    churn_new_days = models.PositiveSmallIntegerField(_("新近流失天数"), default=7)
    birthday_window_days = models.PositiveSmallIntegerField(_("生日提前天数"), default=7)
    deleted_window_days = models.PositiveSmallIntegerField(_("删除提醒天数"), default=7)
    handover_window_days = models.PositiveSmallIntegerField(_("转接提醒天数"), default=7)
    intent_window_hours = models.PositiveSmallIntegerField(_("意向窗口（小时）"), default=48)
    urgent_cart_amount = models.DecimalField(_("紧急提醒的加购金额"), max_digits=10, decimal_places=2, default=1000)
    urgent_cart_after_minutes = models.PositiveSmallIntegerField(_("加购未下单多久后提醒（分钟）"), default=120)
    vip_spend = models.DecimalField(_("VIP 累计消费"), max_digits=12, decimal_places=2, default=5000)
    digest_time = models.TimeField(_("早报时间"), default=dt.time(9, 0))
    quiet_start = models.TimeField(_("免打扰开始"), default=dt.time(21, 0))
    quiet_end = models.TimeField(_("免打扰结束"), default=dt.time(8, 0))
    urgent_daily_limit = models.PositiveSmallIntegerField(_("每位导购每日紧急提醒上限"), default=5)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("今日提醒设置")
        verbose_name_plural = _("今日提醒设置")

    def __str__(self) -> str:
        return str(_("今日提醒设置"))

    @classmethod
    def current(cls) -> "ReminderSettings":
        row = cls.objects.order_by("pk").first()
        return row if row is not None else cls()


class ReminderItem(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        SNOOZED = "snoozed", _("已推迟")
        DONE = "done", _("已完成")
        DISMISSED = "dismissed", _("已忽略")
        # The rule stopped holding (bought, window passed) before the guide acted: a lapsed reminder.
        EXPIRED = "expired", _("已过期")

    class DoneVia(models.TextChoices):
        MATERIAL = "material", _("发送素材")
        NOTE = "note", _("写跟进")
        MANUAL = "manual", _("手动完成")

    class DismissReason(models.TextChoices):
        NOT_RELEVANT = "not_relevant", _("不适用")
        CONTACTED = "contacted", _("已线下联系")
        DO_NOT_DISTURB = "do_not_disturb", _("客户不希望被打扰")
        OTHER = "other", _("其他")

    LIVE_STATES = (State.OPEN, State.SNOOZED)

    kind = models.CharField(_("类型"), max_length=16, choices=ReminderKind.choices)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reminders")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="reminders")
    occurrence = models.CharField(max_length=64)
    due_on = models.DateField(_("到期日"))
    # What the reason sentence needs besides due_on (product name, cart amount, counts…).
    context = models.JSONField(default=dict, blank=True)
    material = models.ForeignKey(
        "materials.Material", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    score = models.FloatField(_("优先级"), default=0)
    # When the fact behind it happened (recency), and when it deserves an immediate push, if ever.
    trigger_at = models.DateTimeField()
    urgent_at = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)

    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.OPEN)
    snoozed_until = models.DateField(_("推迟到"), null=True, blank=True)
    done_via = models.CharField(_("完成方式"), max_length=16, choices=DoneVia.choices, blank=True)
    dismiss_reason = models.CharField(_("忽略原因"), max_length=20, choices=DismissReason.choices, blank=True)
    dismiss_note = models.CharField(_("备注"), max_length=200, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("今日提醒")
        verbose_name_plural = _("今日提醒")
        constraints = [
            models.UniqueConstraint(fields=["kind", "customer", "staff", "occurrence"], name="reminder_once")
        ]
        indexes = [
            models.Index(fields=["staff", "state", "-score"], name="reminder_staff_rank"),
            models.Index(fields=["staff", "kind", "state", "-score"], name="reminder_staff_kind_rank"),
            models.Index(fields=["customer", "state"], name="reminder_customer_state"),
            models.Index(fields=["state", "closed_at"], name="reminder_state_closed"),
            models.Index(fields=["urgent_at"], condition=Q(pushed_at__isnull=True), name="reminder_urgent_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.customer_id}→{self.staff_id}"


class PushLog(models.Model):
    """One app message (message/send) to a guide: the morning digest or one urgent item."""

    class Kind(models.TextChoices):
        DIGEST = "digest", _("早报")
        URGENT = "urgent", _("紧急提醒")

    class Status(models.TextChoices):
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("失败")

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    day = models.DateField()
    item = models.ForeignKey(ReminderItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENDING)
    errcode = models.IntegerField(null=True, blank=True)
    msgid = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("今日推送")
        verbose_name_plural = _("今日推送")
        constraints = [
            # One morning digest per guide and day (a failed one frees the day for a retry).
            models.UniqueConstraint(
                fields=["staff", "day"],
                condition=Q(kind="digest", status__in=["sending", "sent"]),
                name="pushlog_one_digest_a_day",
            )
        ]
        indexes = [models.Index(fields=["staff", "day", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.staff_id} {self.day}"


class SopRule(models.Model):
    """自动化任务 (SOP): a rule that puts 今日 items in front of guides by itself.

    Its trigger and days say when (days 0/1/3/7 after a customer adds a guide, N days before the expected
    repurchase or the birthday, N days after entering 沉睡 or after an order), its segment which customers,
    its material what to send. Items are ordinary 今日 items of kind `sop`, one per customer, guide and
    occurrence (scrm/today/sop.py), live for `window_days` from their day.
    """

    class Trigger(models.TextChoices):
        FRIEND_ADDED = "friend_added", _("添加导购后第 N 天")
        REPURCHASE = "repurchase", _("预计复购日前 N 天")
        BIRTHDAY = "birthday", _("生日前 N 天")
        DORMANT = "dormant", _("进入沉睡后第 N 天")
        ORDER_PAID = "order_paid", _("下单后第 N 天")

    name = models.CharField(_("规则名称"), max_length=40)
    trigger = models.CharField(_("触发时机"), max_length=16, choices=Trigger.choices)
    days = models.JSONField(_("天数"), default=list)
    segment = models.ForeignKey(
        "segments.Segment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("客户分群"),
    )
    material = models.ForeignKey(
        "materials.Material", on_delete=models.PROTECT, related_name="+", verbose_name=_("素材")
    )
    window_days = models.PositiveSmallIntegerField(_("提醒保留天数"), default=3)
    enabled = models.BooleanField(_("启用"), default=True)
    # A manager's rule reaches their store's guides only (None: brand-wide, an admin's).
    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    request_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("自动化任务")
        verbose_name_plural = _("自动化任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
