"""What operators see: request ids in every log line and Celery task, JSON logs, Prometheus metrics."""
