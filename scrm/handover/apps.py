from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandoverConfig(AppConfig):
    name = "scrm.handover"
    label = "handover"
    verbose_name = _("客户继承")

    def ready(self):
        from scrm.handover import receivers
        from scrm.wecom import signals

        signals.transfer_failed.connect(receivers.handover_on_transfer_failed, dispatch_uid="handover-transfer-fail")
