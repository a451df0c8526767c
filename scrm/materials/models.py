from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scrm.customers.models import Customer, Tag
from scrm.org.models import Staff


class MaterialCategory(models.Model):
    name = models.CharField(_("分类"), max_length=50)
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    order = models.IntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("素材分类")
        verbose_name_plural = _("素材分类")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="materialcategory_unique_name"),
            # NULLs are distinct in a unique index, so top-level names need their own constraint.
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="materialcategory_unique_root_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Material(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("话术")
        IMAGE = "image", _("图片")
        VIDEO = "video", _("视频")
        FILE = "file", _("文件")
        LINK = "link", _("链接")
        MINIPROGRAM = "miniprogram", _("小程序")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        UNPUBLISHED = "unpublished", _("已下架")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=100)
    # Script text for TEXT (may hold placeholders such as {客户称呼}); description for LINK.
    content = models.TextField(_("内容"), blank=True)
    file = models.FileField(_("文件"), upload_to="materials/%Y/%m/", blank=True)
    # What the upload really is (sniffed from its bytes) and the name it was uploaded under.
    file_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    file_size = models.PositiveIntegerField(_("文件大小"), default=0)
    file_mime = models.CharField(_("文件类型"), max_length=100, blank=True)
    # Of the stored bytes: a re-sent bulk upload finds its earlier material instead of duplicating it.
    file_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    thumbnail = models.ImageField(_("缩略图"), upload_to="materials/thumbs/%Y/%m/", blank=True)
    link_url = models.URLField(_("链接地址"), max_length=500, blank=True)
    cover = models.ImageField(_("封面"), upload_to="materials/covers/%Y/%m/", blank=True)
    mp_appid = models.CharField(_("小程序 appid"), max_length=64, blank=True)
    mp_page = models.CharField(_("小程序页面"), max_length=255, blank=True)
    category = models.ForeignKey(
        MaterialCategory, on_delete=models.SET_NULL, null=True, blank=True, related_name="materials"
    )
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    audience_tags = models.ManyToManyField(Tag, blank=True, related_name="materials", verbose_name=_("适用标签"))
    audience_stages = models.JSONField(_("适用生命周期"), default=list, blank=True)
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_until = models.DateTimeField(_("失效时间"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    # Denormalised for sorting; whoever records a MaterialSend bumps it with F("send_count") + 1.
    send_count = models.PositiveIntegerField(_("发送次数"), default=0)
    # WeCom temporary media (valid 3 days) for image/video/file sends; cleared when the file changes.
    wecom_media_id = models.CharField(max_length=128, blank=True)
    wecom_media_uploaded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("素材")
        verbose_name_plural = _("素材")
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["status", "kind"]),
            models.Index(fields=["category", "status"]),
            # The sidebar's 全部 list: newest sendable first, read from the index's front.
            models.Index(fields=["status", "-updated_at", "-id"], name="material_status_newest"),
            # The 推荐 snapshot's freshness check: the newest change to any material, one probe.
            models.Index(fields=["-updated_at"], name="material_newest_change"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_sendable(self, now=None) -> bool:
        """Published and inside its validity window; the sidebar offers only these."""
        now = now or timezone.now()
        if self.status != self.Status.PUBLISHED:
            return False
        if self.valid_from and now < self.valid_from:
            return False
        return not (self.valid_until and now >= self.valid_until)

    @property
    def validity_state(self) -> str:
        """'pending', 'expired' or '' — for badges in lists."""
        now = timezone.now()
        if self.valid_until and now >= self.valid_until:
            return "expired"
        if self.valid_from and now < self.valid_from:
            return "pending"
        return ""


class MaterialSend(models.Model):
    class Status(models.TextChoices):
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        CANCELLED = "cancelled", _("已取消")
        # Handed to the JS-SDK, outcome not yet reported by the page.
        PENDING = "pending", _("发送中")

    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="sends")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="material_sends")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="material_sends")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SENT)
    error = models.CharField(_("失败原因"), max_length=200, blank=True)
    # Client-generated id of the tap, so a retried request records one send.
    request_id = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField(_("发送时间"))

    class Meta:
        verbose_name = _("素材发送记录")
        verbose_name_plural = _("素材发送记录")
        indexes = [
            models.Index(fields=["material", "sent_at"]),
            models.Index(fields=["staff", "sent_at"]),
            models.Index(fields=["customer", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.material_id}→{self.customer_id} {self.status}"


class MaterialFavourite(models.Model):
    """A guide's starred material in the sidebar (收藏); one row per guide and material."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="material_favourites")
    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("素材收藏")
        verbose_name_plural = _("素材收藏")
        constraints = [models.UniqueConstraint(fields=["staff", "material"], name="materialfavourite_unique")]
        indexes = [models.Index(fields=["staff", "-created_at"], name="materialfav_staff_newest")]

    def __str__(self) -> str:
        return f"{self.staff_id}★{self.material_id}"


class BulkUpload(models.Model):
    """Images posted together without the page's script: checked and saved by a worker, one by one,
    while the page shows progress (a 6,000-pixel PNG takes seconds and hundreds of MB to re-encode)."""

    created_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    category = models.ForeignKey(MaterialCategory, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("批量上传")
        verbose_name_plural = _("批量上传")

    def __str__(self) -> str:
        return f"#{self.pk} {self.created_at:%Y-%m-%d %H:%M}"


class BulkUploadItem(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("处理中")
        SAVED = "saved", _("已保存")
        DUPLICATE = "duplicate", _("与已有素材相同")
        FAILED = "failed", _("未通过")

    batch = models.ForeignKey(BulkUpload, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    # The file as posted, until the worker has checked it; deleted afterwards.
    staged = models.FileField(upload_to="bulk-staging/%Y/%m/", max_length=255, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=300, blank=True)
    material = models.ForeignKey(Material, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"
