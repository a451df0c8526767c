from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "scrm.segments"
    verbose_name = _("客户分群")
