from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SidebarConfig(AppConfig):
    name = "sidebar"
    verbose_name = _("导购侧边栏")
