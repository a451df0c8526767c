"""Settings come from environment variables only; every one is listed in .env.example.

`DJANGO_SETTINGS_MODULE=scrm.settings`: the core settings (`base`), then Celery's queues, routes and
beat schedule (`workers`), then the WeCom connection (`wecom`).
"""

from scrm.settings.base import *  # noqa: F403
from scrm.settings.wecom import *  # noqa: F403
from scrm.settings.workers import *  # noqa: F403
