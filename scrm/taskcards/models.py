"""任务卡: headquarters asks guides to send something to their own customers of a segment.

A Task names its audience (a saved segment, or tags / lifecycle stages), what to send (a material or a
script with placeholders) and an optional coupon pool; each target guide gets one TaskItem per own
customer. A coupon code is bound to at most one item (Coupon.item is unique), so a code is never given twice.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scrm.customers.models import Customer
from scrm.org.models import Staff, Store


class Task(models.Model):
    class Kind(models.TextChoices):
        CARD = "card", _("任务卡（导购一对一发送）")
        GROUPSEND = "groupsend", _("企业群发（导购在企业微信确认）")

    class CouponMode(models.TextChoices):
        NONE = "none", _("不发券")
        UPLOAD = "upload", _("上传券码")
        GENERATE = "generate", _("系统生成券码")

    name = models.CharField(_("任务名称"), max_length=50)
    kind = models.CharField(_("任务类型"), max_length=10, choices=Kind.choices, default=Kind.CARD)
    segment = models.ForeignKey(
        "segments.Segment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("分群")
    )
    # The audience as a segment filter spec, frozen when the task is created.
    spec = models.JSONField(_("对象条件"), default=dict, blank=True)
    material = models.ForeignKey(
        "materials.Material", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("素材")
    )
    script = models.TextField(_("话术"), blank=True)
    # A group send's attachments (WeCom takes up to 9), in the order chosen.
    attachments = models.ManyToManyField("materials.Material", blank=True, related_name="+", verbose_name=_("群发附件"))
    # Customers left out of a group send because they reached this month's quota of brand messages.
    quota_excluded = models.PositiveIntegerField(_("因本月群发次数已满未发送"), default=0)
    coupon_mode = models.CharField(_("优惠券"), max_length=10, choices=CouponMode.choices, default=CouponMode.NONE)
    starts_at = models.DateTimeField(_("开始时间"))
    deadline = models.DateTimeField(_("截止时间"))
    order_window_days = models.PositiveSmallIntegerField(_("成交统计天数"), default=7)
    stores = models.ManyToManyField(Store, blank=True, related_name="+", verbose_name=_("门店"))
    guides = models.ManyToManyField(Staff, blank=True, related_name="+", verbose_name=_("导购"))
    # Whose task it is: a manager's stays in their store (None: brand-wide, an admin's).
    store = models.ForeignKey(Store, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # From the form: submitting it twice makes one task, not two cards per customer.
    request_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("任务卡")
        verbose_name_plural = _("任务卡")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class GroupSendResult(models.IntegerChoices):
    """get_groupmsg_send_result's per-customer status, as WeCom numbers it."""

    UNSENT = 0, _("未发送")
    RECEIVED = 1, _("已送达")
    NOT_FRIEND = 2, _("失败：客户已不是好友")
    OVER_LIMIT = 3, _("失败：客户本月已收满群发")


class TaskItem(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("待发送")
        SENT = "sent", _("已发送")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="items")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="task_items", verbose_name=_("导购"))
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="task_items", verbose_name=_("客户"))
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.OPEN)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    request_id = models.CharField(max_length=80, blank=True)
    # Group sends: the WeCom call that carries this customer, and WeCom's per-customer result.
    batch = models.ForeignKey("GroupSendBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="items")
    wecom_status = models.PositiveSmallIntegerField(
        _("群发结果"), choices=GroupSendResult.choices, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("任务明细")
        verbose_name_plural = _("任务明细")
        constraints = [models.UniqueConstraint(fields=["task", "customer"], name="taskitem_once_per_customer")]
        indexes = [
            models.Index(fields=["staff", "state"], name="taskitem_staff_state"),
            models.Index(fields=["customer", "state"], name="taskitem_customer_state"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id}:{self.customer_id}→{self.staff_id}"


class Coupon(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="coupons")
    code = models.CharField(_("券码"), max_length=64, unique=True)
    # Bound on the first prepare of an item's send; unique, so no code reaches two customers.
    item = models.OneToOneField(
        TaskItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="coupon", verbose_name=_("任务明细")
    )
    assigned_at = models.DateTimeField(_("分配时间"), null=True, blank=True)
    redeemed_at = models.DateTimeField(_("核销时间"), null=True, blank=True)
    redeemed_order_no = models.CharField(_("核销订单号"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("优惠券码")
        verbose_name_plural = _("优惠券码")
        indexes = [models.Index(fields=["task"], condition=Q(assigned_at__isnull=True), name="coupon_free_per_task")]

    def __str__(self) -> str:
        return self.code


class TaskNudge(models.Model):
    """One reminder app message to a lagging guide about a task (at most one per task and guide)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="nudges")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    open_items = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("任务催办")
        verbose_name_plural = _("任务催办")
        constraints = [models.UniqueConstraint(fields=["task", "staff"], name="tasknudge_once")]

    def __str__(self) -> str:
        return f"{self.task_id}→{self.staff_id}"


class GroupSendBatch(models.Model):
    """One add_msg_template call: one guide as sender, up to WeCom's limit of their customers.

    Planned when the task is created; `msgid` is stored the moment WeCom answers, and `submitting_at`
    is written before the call, so a retry after a crash looks the msgid up instead of sending twice.
    """

    class State(models.TextChoices):
        PLANNED = "planned", _("待提交")
        CREATED = "created", _("待导购确认")
        SENT = "sent", _("导购已发送")
        FAILED = "failed", _("提交失败")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="batches")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+", verbose_name=_("导购"))
    number = models.PositiveSmallIntegerField(default=1)
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.PLANNED)
    msgid = models.CharField(max_length=64, blank=True)
    fail_list = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=255, blank=True)
    submitting_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("导购发送时间"), null=True, blank=True)
    pulled_at = models.DateTimeField(_("结果更新时间"), null=True, blank=True)
    # When 提醒 was pressed (unix seconds): WeCom allows 3 reminders per group send in 24 hours.
    reminded_at = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("企业群发批次")
        verbose_name_plural = _("企业群发批次")
        constraints = [models.UniqueConstraint(fields=["task", "staff", "number"], name="groupsendbatch_once")]
        indexes = [models.Index(fields=["state"], name="groupsendbatch_state")]

    def __str__(self) -> str:
        return f"{self.task_id}:{self.staff_id}#{self.number}"
