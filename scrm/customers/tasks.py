from celery import shared_task

from scrm.customers.models import Customer
from scrm.customers.services import customer_refresh_figures, customers_refresh_figures

SWEEP_BATCH = 500


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def refresh_figures(customer_id: int) -> None:
    customer_refresh_figures(customer_id=customer_id)


@shared_task(soft_time_limit=3600, time_limit=3900)  # the nightly sweep over every customer
def refresh_all_figures() -> int:
    """Nightly sweep: days pass, so churn and lifecycle change even without new writes."""
    ids = Customer.objects.filter(merged_into__isnull=True).order_by("pk").values_list("pk", flat=True)
    count, last = 0, 0
    while batch := list(ids.filter(pk__gt=last)[:SWEEP_BATCH]):
        customers_refresh_figures(customer_ids=batch)
        count, last = count + len(batch), batch[-1]
    return count
