"""Saved segments: a named filter over customers (see scrm.segments.filters) and its daily count."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from scrm.org.models import Staff, Store


class Segment(models.Model):
    name = models.CharField(_("分群名称"), max_length=50)
    # The filter spec, as scrm.segments.filters reads it; stored as cleaned by the filter form.
    spec = models.JSONField(_("筛选条件"), default=dict, blank=True)
    # Whose customers it counts: a manager's segment stays in their store; None is the whole brand.
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("门店范围")
    )
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("创建人")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("客户分群")
        verbose_name_plural = _("客户分群")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class SegmentCount(models.Model):
    """The segment's size on one day (the beat task's snapshot): its trend."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="counts")
    day = models.DateField(_("日期"))
    count = models.PositiveIntegerField(_("人数"))

    class Meta:
        verbose_name = _("分群人数")
        verbose_name_plural = _("分群人数")
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["segment", "day"], name="segmentcount_once_a_day")]

    def __str__(self) -> str:
        return f"{self.segment_id} {self.day}: {self.count}"


class TagBatch(models.Model):
    """Tag (or untag) every customer of a segment; each edit goes to WeCom through the tag outbox."""

    class Action(models.TextChoices):
        ADD = "add", _("添加标签")
        REMOVE = "remove", _("移除标签")

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="tag_batches")
    tag = models.ForeignKey("customers.Tag", on_delete=models.CASCADE, related_name="+", verbose_name=_("标签"))
    action = models.CharField(_("操作"), max_length=8, choices=Action.choices)
    staff = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("操作人"))
    # From the form: a double submit starts one batch.
    request_key = models.CharField(max_length=64, unique=True)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(_("客户数"), default=0)
    processed = models.PositiveIntegerField(_("已处理"), default=0)
    changed = models.PositiveIntegerField(_("有变化"), default=0)
    # The last customer id handled: a re-run (worker restart) resumes after it.
    cursor = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("分群批量打标签")
        verbose_name_plural = _("分群批量打标签")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.segment_id} {self.action} {self.tag_id}"

    @property
    def percent(self) -> int:
        return round(100 * self.processed / self.total) if self.total else 100
