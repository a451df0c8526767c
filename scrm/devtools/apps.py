from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Dev-only tools (the demo brand and `seed_demo`): installed only with DEBUG on, so production has neither."""

    name = "scrm.devtools"
    verbose_name = "开发工具"
