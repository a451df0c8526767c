from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Store(models.Model):
    code = models.CharField(_("门店编码"), max_length=32, unique=True)
    name = models.CharField(_("门店名称"), max_length=100)
    city = models.CharField(_("城市"), max_length=50, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    # WGS-84, for the store-code page's nearest-store sort (no map SDK needed).
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("门店")
        verbose_name_plural = _("门店")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    """A WeCom member of the brand's corp. Guides, managers and content staff are all Staff."""

    class Role(models.TextChoices):
        GUIDE = "guide", _("导购")
        MANAGER = "manager", _("店长")
        CONTENT = "content", _("内容运营")
        ADMIN = "admin", _("管理员")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="staff"
    )
    userid = models.CharField(_("企业微信成员 userid"), max_length=64, unique=True)
    name = models.CharField(_("姓名"), max_length=64)
    avatar = models.URLField(_("头像"), max_length=500, blank=True)
    mobile = models.CharField(_("手机"), max_length=32, blank=True)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, null=True, blank=True, related_name="staff")
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.GUIDE)
    is_active = models.BooleanField(_("在职"), default=True)
    departed_at = models.DateTimeField(_("离职时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("员工")
        verbose_name_plural = _("员工")
        ordering = ["store_id", "name"]
        indexes = [models.Index(fields=["store", "role"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.userid})"
