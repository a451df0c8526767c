from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TaskcardsConfig(AppConfig):
    name = "scrm.taskcards"
    verbose_name = _("任务卡")
