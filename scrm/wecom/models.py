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


class CallbackInbox(models.Model):
    """One decrypted WeCom callback, stored before any work is done on it.

    `key` is derived from the event itself, so WeCom's redelivery of the same event hits the
    unique constraint and is a no-op; a Celery task processes pending rows, a sweep catches
    rows whose dispatch was lost (broker down).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待处理")
        DONE = "done", _("已处理")
        SKIPPED = "skipped", _("已忽略")
        FAILED = "failed", _("处理失败")

    key = models.CharField(_("幂等键"), max_length=64, unique=True)
    event = models.CharField(_("事件"), max_length=64, blank=True)
    change_type = models.CharField(_("变更类型"), max_length=64, blank=True)
    userid = models.CharField(_("成员 userid"), max_length=64, blank=True)
    external_userid = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(_("事件内容"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("回调收件箱")
        verbose_name_plural = _("回调收件箱")
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"{self.event}/{self.change_type} {self.userid}→{self.external_userid}"


class CallbackNonce(models.Model):
    """A (msg_signature, nonce) already accepted: the same signed request again is a replay."""

    msg_signature = models.CharField(max_length=64)
    nonce = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("回调签名记录")
        verbose_name_plural = _("回调签名记录")
        constraints = [models.UniqueConstraint(fields=["msg_signature", "nonce"], name="callbacknonce_unique")]

    def __str__(self) -> str:
        return self.nonce


class ChatArchiveCursor(models.Model):
    """How far the chat archive (会话内容存档) has been read: WeCom's seq of the last record taken."""

    seq = models.BigIntegerField(default=0)
    pulled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("会话存档进度")
        verbose_name_plural = _("会话存档进度")

    def __str__(self) -> str:
        return f"seq {self.seq}"
