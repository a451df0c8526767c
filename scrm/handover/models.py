"""Customer hand-over (客户继承): a batch moves customers of one guide to one or more other guides.

离职继承 (resigned) uses WeCom's resigned/ endpoints for a departed guide; 在职转接 (in service)
asks each customer to accept within 24 h. Each customer is one HandoverItem whose state follows
WeCom's answers; the item, not the batch, is the unit of idempotency and retry.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scrm.customers.models import Customer, FollowRelation
from scrm.org.models import Staff, Store


class HandoverBatch(models.Model):
    class Kind(models.TextChoices):
        RESIGNED = "resigned", _("离职继承")
        IN_SERVICE = "in_service", _("在职转接")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    handover = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="handovers_out", verbose_name=_("原导购")
    )
    # The old guide's store when the batch was made: managers see their store's batches.
    store = models.ForeignKey(Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("操作人")
    )
    transfer_success_msg = models.CharField(_("转接提示语"), max_length=200, blank=True)
    # How the customers were picked, shown on the batch page: {"mode": "all"|"tag"|"stage", "label": …}.
    selection = models.JSONField(default=dict, blank=True)
    # Generated with the form: a double submit finds the batch it already made.
    request_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("客户继承批次")
        verbose_name_plural = _("客户继承批次")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def resigned(self) -> bool:
        return self.kind == self.Kind.RESIGNED


class HandoverItem(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("待提交")
        # Claimed by a send task; the WeCom call is in flight (or the worker died: the poll reconciles).
        SENDING = "sending", _("提交中")
        WAITING = "waiting", _("等待接替")
        ACCEPTED = "accepted", _("已接替")
        REFUSED = "refused", _("客户拒绝")
        FAILED = "failed", _("失败")

    # States of an item still in flight: at most one per relation (see the constraint below).
    OPEN_STATES = (State.PENDING, State.SENDING, State.WAITING)

    batch = models.ForeignKey(HandoverBatch, on_delete=models.CASCADE, related_name="items")
    relation = models.ForeignKey(FollowRelation, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    external_userid = models.CharField(max_length=64)
    takeover = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="handovers_in", verbose_name=_("接替导购")
    )
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.PENDING)
    # Sends so far; part of event keys so a retried item records its own outcome.
    attempt = models.PositiveSmallIntegerField(default=0)
    # This attempt went through WeCom's resigned/ API: the old guide had left when it was sent (a batch
    # made while they were in service and retried after they left goes there too); its result is
    # asked of the same API.
    resigned = models.BooleanField(default=False)
    errcode = models.IntegerField(null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When WeCom accepted this attempt's request (errcode 0); None until then.
    requested_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    new_relation = models.ForeignKey(FollowRelation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("客户继承明细")
        verbose_name_plural = _("客户继承明细")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "relation"], name="handoveritem_once_per_batch"),
            # One hand-over in flight per relation, whatever the batch.
            models.UniqueConstraint(
                fields=["relation"],
                condition=Q(state__in=["pending", "sending", "waiting"]),
                name="handoveritem_one_open_per_relation",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "takeover"]),
            models.Index(fields=["batch", "state"]),
            models.Index(fields=["external_userid", "takeover"]),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.external_userid}"

    @property
    def failed_event_key(self) -> str:
        return f"handover:item:{self.pk}:{self.attempt}:failed"

    @property
    def accepted_event_key(self) -> str:
        return f"handover:item:{self.pk}:accepted"
