from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "scrm.org"
    verbose_name = _("门店与员工")
