from celery import shared_task

from scrm.customers.models import Customer
from scrm.customers.services import customer_refresh_figures


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def refresh_figures(customer_id: int) -> None:
    customer_refresh_figures(customer_id=customer_id)


@shared_task
def refresh_all_figures() -> int:
    """Nightly sweep: days pass, so churn and lifecycle change even without new writes."""
    count = 0
    for customer_id in Customer.objects.filter(merged_into__isnull=True).values_list("pk", flat=True).iterator():
        customer_refresh_figures(customer_id=customer_id)
        count += 1
    return count
