from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiScope(models.TextChoices):
    READ = "read", _("只读")
    # Write keys may read too: ingestion clients read back what they wrote.
    WRITE = "write", _("读写")


class ApiKey(models.Model):
    """A brand system's credential for /api/v1/. Only a hash of the key is kept; it is shown once."""

    name = models.CharField(_("名称"), max_length=100)
    # The public first part of the key, to find the row without scanning every hash.
    prefix = models.CharField(_("前缀"), max_length=16, unique=True)
    key_hash = models.CharField(_("密钥哈希"), max_length=64)
    scope = models.CharField(_("权限"), max_length=8, choices=ApiScope.choices, default=ApiScope.READ)
    active = models.BooleanField(_("启用"), default=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("API 密钥")
        verbose_name_plural = _("API 密钥")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == ApiScope.WRITE
