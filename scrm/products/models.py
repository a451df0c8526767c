"""The brand's product catalogue, pushed by its systems through PUT /api/v1/products/<sku>.

`usage_days` (how long one unit lasts) turns order lines into "runs out on" dates: 今日's
replenishment reminders (scrm.today.rules) read them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("商品名称"), max_length=200)
    category = models.CharField(_("品类"), max_length=100, blank=True)
    image_url = models.URLField(_("商品图"), max_length=500, blank=True)
    usage_days = models.PositiveIntegerField(_("使用天数"), null=True, blank=True)
    mp_appid = models.CharField(_("小程序 appid"), max_length=64, blank=True)
    mp_page = models.CharField(_("小程序页面"), max_length=255, blank=True)
    # The mini-program card material made for this product (what 今日 offers to send), if any.
    material = models.ForeignKey(
        "materials.Material", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"
