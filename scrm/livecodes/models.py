"""渠道活码: WeCom contact ways (scene 2, a `state`) with the rules WeCom cannot express.

A LiveCode is one QR code in WeCom (`config_id`). Who answers it is decided here and pushed to WeCom
as the code's `user` list (`update_contact_way`): the spread mode, per-guide daily caps with backup
guides, and working hours with an off-hours guide. Every change of that list is a LiveCodeDecision.
Each add through a code is a LiveCodeAdd (the source of a follow relation); LiveCodeDayCount is the
counter row the cap accounting locks; WelcomeSend makes the welcome message go out once per code.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from scrm.customers.models import FollowRelation, Tag
from scrm.materials.models import Material
from scrm.org.models import Staff, Store

MAX_STATE = 30  # WeCom's limit on a contact way's state
MAX_ATTACHMENTS = 9  # WeCom's limit on a welcome message's attachments


class ChannelGroup(models.TextChoices):
    COUNTER = "counter", _("门店柜台")
    PARCEL = "parcel", _("包裹卡")
    LIVE = "live", _("直播")
    POSTER = "poster", _("海报")
    OA_MENU = "oa_menu", _("公众号菜单")
    OTHER = "other", _("其他")


class SpreadMode(models.TextChoices):
    SINGLE = "single", _("单人")
    ROUND_ROBIN = "round_robin", _("轮流分配")
    LEAST_TODAY = "least_today", _("今日新增最少优先")
    BY_STORE = "by_store", _("按门店（门店在职导购）")


class LiveCode(models.Model):
    class SyncStatus(models.TextChoices):
        PENDING = "pending", _("同步中")
        OK = "ok", _("已同步")
        FAILED = "failed", _("同步失败")

    name = models.CharField(_("名称"), max_length=50)
    channel_group = models.CharField(_("渠道分组"), max_length=16, choices=ChannelGroup.choices)
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="live_codes", verbose_name=_("门店")
    )
    state = models.CharField(_("渠道标识 state"), max_length=MAX_STATE, unique=True)
    spread_mode = models.CharField(_("分配方式"), max_length=16, choices=SpreadMode.choices, default=SpreadMode.SINGLE)
    daily_cap = models.PositiveIntegerField(
        _("每人每日上限"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10000)],
        help_text=_("留空表示不限；达到上限的导购当天不再接待，由备用导购接替"),
    )
    work_start = models.TimeField(_("接待开始"), null=True, blank=True)
    work_end = models.TimeField(_("接待结束"), null=True, blank=True)
    off_hours_guide = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("非工作时间导购")
    )
    skip_verify = models.BooleanField(_("自动通过好友申请"), default=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="live_codes", verbose_name=_("添加后打标签"))
    welcome_text = models.TextField(_("欢迎语"), max_length=4000, blank=True)
    welcome_materials = models.ManyToManyField(
        Material, blank=True, related_name="+", verbose_name=_("欢迎语附件"), through="LiveCodeAttachment"
    )
    # WeCom's side: set once add_contact_way answered.
    config_id = models.CharField(max_length=64, blank=True, db_index=True)
    qr_code = models.URLField(_("二维码"), max_length=500, blank=True)
    # A copy of WeCom's QR image, fetched by Celery after a sync, so pages and posters never wait on WeCom.
    qr_image = models.FileField(_("二维码图片"), upload_to="livecodes/qr/", blank=True)
    # The user list WeCom has now (what we last pushed).
    wecom_users = models.JSONField(default=list, blank=True)
    sync_status = models.CharField(max_length=8, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    sync_error = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("渠道活码")
        verbose_name_plural = _("渠道活码")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def source_label(self) -> str:
        return f"{self.get_channel_group_display()} · {self.name}"


class LiveCodeAttachment(models.Model):
    code = models.ForeignKey(LiveCode, on_delete=models.CASCADE, related_name="attachments")
    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["code", "material"], name="livecodeattachment_unique")]

    def __str__(self) -> str:
        return f"{self.code_id}:{self.material_id}"


class LiveCodeGuide(models.Model):
    """A guide who answers a code: on duty, or a backup who takes over when the others reach the cap."""

    code = models.ForeignKey(LiveCode, on_delete=models.CASCADE, related_name="members")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="live_code_memberships")
    backup = models.BooleanField(_("备用"), default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("活码导购")
        verbose_name_plural = _("活码导购")
        ordering = ["backup", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["code", "staff"], name="livecodeguide_unique")]

    def __str__(self) -> str:
        return f"{self.code_id}:{self.staff_id}{' (backup)' if self.backup else ''}"


class LiveCodeDayCount(models.Model):
    """Adds of one guide through one code on one local day: the row cap accounting locks."""

    code = models.ForeignKey(LiveCode, on_delete=models.CASCADE, related_name="day_counts")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    # Adds that WeCom gave the guide after the cap was reached (before the new list reached WeCom).
    over_cap = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "staff", "day"], name="livecodedaycount_unique")]

    def __str__(self) -> str:
        return f"{self.code_id}:{self.staff_id}@{self.day}={self.count}"


class LiveCodeAdd(models.Model):
    """A customer added a guide through a code: the source of that follow relation."""

    code = models.ForeignKey(LiveCode, on_delete=models.CASCADE, related_name="adds")
    relation = models.OneToOneField(FollowRelation, on_delete=models.CASCADE, related_name="live_code_add")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField()
    # The guide was already at the cap when this add arrived (counted apart, see LiveCodeDayCount).
    over_cap = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("活码添加记录")
        verbose_name_plural = _("活码添加记录")
        indexes = [models.Index(fields=["code", "added_at"])]

    def __str__(self) -> str:
        return f"{self.code_id}→{self.relation_id}"


class LiveCodeDecision(models.Model):
    """Why the code's user list in WeCom changed (or was checked and left alone)."""

    class Reason(models.TextChoices):
        CREATED = "created", _("创建活码")
        EDITED = "edited", _("修改设置")
        CAP_REACHED = "cap_reached", _("导购达到每日上限")
        OVER_CAP = "over_cap", _("名单更新前超出上限")
        HOURS = "hours", _("工作时间变化")
        LEAST_TODAY = "least_today", _("今日新增最少")
        SWEEP = "sweep", _("定时检查（上限、工作时间、在职导购）")
        SYNC_FAILED = "sync_failed", _("同步企业微信失败")
        DELETED = "deleted", _("删除活码")

    code = models.ForeignKey(LiveCode, on_delete=models.CASCADE, related_name="decisions")
    reason = models.CharField(_("原因"), max_length=16, choices=Reason.choices)
    users_before = models.JSONField(default=list)
    users_after = models.JSONField(default=list)
    detail = models.CharField(_("说明"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("活码分配记录")
        verbose_name_plural = _("活码分配记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.code_id}: {self.reason}"


class StoreWelcome(models.Model):
    """The default welcome of a store, for codes without a welcome of their own."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="welcome", verbose_name=_("门店"))
    text = models.TextField(_("欢迎语"), max_length=4000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("门店默认欢迎语")
        verbose_name_plural = _("门店默认欢迎语")

    def __str__(self) -> str:
        return str(self.store)


class WelcomeSend(models.Model):
    """One welcome message, keyed by WeCom's one-use WelcomeCode: stored first, sent at most once."""

    class Status(models.TextChoices):
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        EXPIRED = "expired", _("已过期（超过 20 秒）")
        FAILED = "failed", _("发送失败")
        SKIPPED = "skipped", _("无需发送")

    welcome_code = models.CharField(max_length=128, unique=True)
    code = models.ForeignKey(LiveCode, on_delete=models.SET_NULL, null=True, blank=True, related_name="welcomes")
    userid = models.CharField(max_length=64)
    external_userid = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENDING)
    error = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("欢迎语发送记录")
        verbose_name_plural = _("欢迎语发送记录")
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return self.welcome_code
