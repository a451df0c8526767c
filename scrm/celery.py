import os

from celery import Celery

# Both connect their own Celery signals: request ids follow tasks (task headers) into the worker's log
# lines, and the worker serves its own /metrics (worker_init).
import scrm.observe.metrics
import scrm.observe.requestid  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scrm.settings")

app = Celery("scrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
