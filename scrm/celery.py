import os

from celery import Celery, signals

# Request ids follow tasks (task headers) and land in the worker's log lines.
import scrm.observe.requestid  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scrm.settings")

app = Celery("scrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _worker_metrics(**_kwargs):
    # In the worker's main process, before the pool forks: one HTTP server for all its children.
    from django.conf import settings

    if settings.CELERY_METRICS_PORT:
        from scrm.observe.metrics import worker_metrics_serve

        worker_metrics_serve(port=settings.CELERY_METRICS_PORT, addr=settings.CELERY_METRICS_ADDR)
