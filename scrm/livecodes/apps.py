from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveCodesConfig(AppConfig):
    name = "scrm.livecodes"
    verbose_name = _("渠道活码")

    def ready(self):
        from scrm.livecodes import receivers
        from scrm.wecom import signals

        # The welcome is queued when the add callback is stored; the add itself counts once applied.
        signals.contact_add_received.connect(receivers.welcome_on_add_received, dispatch_uid="livecodes-welcome")
        signals.contact_added.connect(receivers.livecode_on_contact_added, dispatch_uid="livecodes-add")
