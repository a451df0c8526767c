from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveCodesConfig(AppConfig):
    name = "scrm.livecodes"
    verbose_name = _("渠道活码")
