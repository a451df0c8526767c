from django.db import models
from django.utils.translation import gettext_lazy as _


class TagOutbox(models.Model):
    """A tag edit made here, waiting to be pushed to WeCom with mark_tag.

    Written in the same transaction as the local edit, so the edit is never lost and
    never pushed twice; a Celery task drains it with retries.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待推送")
        DONE = "done", _("已推送")
        FAILED = "failed", _("推送失败")

    userid = models.CharField(_("成员 userid"), max_length=64)
    external_userid = models.CharField(max_length=64)
    add_tag_ids = models.JSONField(default=list, blank=True)  # Tag primary keys
    remove_tag_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("标签推送队列")
        verbose_name_plural = _("标签推送队列")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.userid}/{self.external_userid}: +{self.add_tag_ids} -{self.remove_tag_ids}"
