from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WecomConfig(AppConfig):
    name = "scrm.wecom"
    verbose_name = _("企业微信")

    def ready(self):
        from scrm.customers.signals import customer_tag_changed
        from scrm.observe.metrics import backlog_register
        from scrm.wecom.selectors import inbox_backlog, outbox_backlog
        from scrm.wecom.tag_outbox import tag_push_for_local_edit

        # A guide's tag edit reaches WeCom through our tag outbox.
        customer_tag_changed.connect(tag_push_for_local_edit, dispatch_uid="wecom-tag-outbox")
        # Their health on /metrics: rows waiting, and how long the oldest has waited.
        backlog_register(queue="callback_inbox", read=inbox_backlog)
        backlog_register(queue="tag_outbox", read=outbox_backlog)
