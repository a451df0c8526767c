from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "scrm.org"
    verbose_name = _("门店与员工")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from scrm.org.auth import session_mark_renewed

        user_logged_in.connect(session_mark_renewed, dispatch_uid="org.session_mark_renewed")
