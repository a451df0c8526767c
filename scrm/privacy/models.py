"""PIPL: who looked at or took out whose data, and which customers' data was erased on request."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from scrm.org.models import Staff


class AccessLog(models.Model):
    """One access to personal data. customer_id is a plain number, not a key: the row outlives erasure."""

    class Action(models.TextChoices):
        VIEW = "view", _("查看客户画像")
        EXPORT_LIST = "export_list", _("导出名单")
        EXPORT_CUSTOMER = "export_customer", _("导出客户数据")
        ERASE_CUSTOMER = "erase_customer", _("删除客户数据")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    staff = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("员工")
    )
    actor = models.CharField(_("操作人"), max_length=100, help_text=_("员工姓名和 userid，员工删除后仍可查"))
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    customer_id = models.PositiveBigIntegerField(_("客户 id"), null=True, blank=True)
    subject = models.CharField(_("内容"), max_length=200, blank=True, help_text=_("导出的文件名、入口等"))
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)

    class Meta:
        verbose_name = _("访问记录")
        verbose_name_plural = _("访问记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer_id", "-at"], name="accesslog_customer_newest")]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_action_display()} {self.customer_id or self.subject}"


class Erasure(models.Model):
    """A customer's personal data erased on their request: when, by whom, and how many rows went."""

    customer_id = models.PositiveBigIntegerField(_("客户 id"), unique=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    staff = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("操作员工")
    )
    actor = models.CharField(_("操作人"), max_length=100)
    counts = models.JSONField(_("删除行数"), default=dict)

    class Meta:
        verbose_name = _("删除记录")
        verbose_name_plural = _("删除记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"#{self.customer_id} {self.at:%Y-%m-%d}"

    @property
    def rows_total(self) -> int:
        return sum(self.counts.values())
