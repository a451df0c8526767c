from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SimulatorConfig(AppConfig):
    name = "scrm.wecom.simulator"
    label = "wecom_sim"
    verbose_name = _("企业微信模拟器")
