from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TodayConfig(AppConfig):
    name = "scrm.today"
    verbose_name = _("今日")

    def ready(self):
        from scrm.customers import signals
        from scrm.today import hooks

        signals.event_recorded.connect(hooks.on_event_recorded, dispatch_uid="today.event_recorded")
        signals.facts_changed.connect(hooks.on_facts_changed, dispatch_uid="today.facts_changed")
