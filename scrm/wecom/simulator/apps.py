from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class SimulatorConfig(AppConfig):
    name = "scrm.wecom.simulator"
    label = "wecom_sim"
    verbose_name = _("企业微信模拟器")

    def ready(self):
        checks.register(simulator_installed, checks.Tags.security, deploy=True)


def simulator_installed(app_configs, **kwargs):
    """`manage.py check --deploy` fails while the simulator is installed: it signs anyone in."""
    return [
        checks.Error(
            "The WeCom simulator is installed: anyone can sign in as any member.",
            hint="Set WECOM_SIMULATOR=false in production.",
            id="wecom_sim.E001",
        )
    ]
