"""Concurrent merges (#12): 8 threads joining a chain or a star end in one customer, never an error.

Runs on PostgreSQL only (SQLite serialises writers), e.g.
DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/pytest tests/customers/test_identity_concurrency.py
"""

import threading

import pytest
from django.db import connection

from scrm.customers.identity import customer_resolve
from scrm.customers.models import Customer, CustomerMerge, Identity
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def _customers(n: int) -> list[Customer]:
    customers = []
    for i in range(n):
        customer = CustomerFactory()
        IdentityFactory(customer=customer, kind="tmall", value=f"t{i}")
        IdentityFactory(customer=customer, kind="jd", value=f"j{i}")
        customers.append(customer)
    return customers


def _run_all(observations: list[list[tuple[str, str]]]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(observations))

    def work(obs):
        try:
            start.wait()
            customer_resolve(identities=[(k, v, "") for k, v in obs], defaults={})
        except BaseException as exc:  # any error is the failure under test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(obs,)) for obs in observations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.parametrize("shape", ["chain", "star"])
def test_eight_threads_merging_end_in_one_customer(shape):
    customers = _customers(9)
    if shape == "chain":  # 0-1, 1-2, …, 7-8
        observations = [[("tmall", f"t{i}"), ("jd", f"j{i + 1}")] for i in range(8)]
    else:  # 0-1, 0-2, …, 0-8
        observations = [[("tmall", "t0"), ("jd", f"j{i}")] for i in range(1, 9)]

    errors = _run_all(observations)

    assert errors == []
    owners = set(Identity.objects.values_list("customer_id", flat=True))
    assert owners == {customers[0].pk}
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1
    assert CustomerMerge.objects.filter(undone_at__isnull=True).count() == 8
    assert Identity.objects.count() == 18
