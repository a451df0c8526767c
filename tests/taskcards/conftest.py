import datetime as dt

import pytest
from django.utils import timezone

from scrm.customers.models import LifecycleStage
from scrm.taskcards.models import Task
from scrm.taskcards.services import TaskDraft, task_create
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory


@pytest.fixture
def team(store, guide, manager):
    """Two guides of the store with two repeat customers each, one new customer, and a shared customer."""
    other = StaffFactory(store=store, name="小美")
    people = {}
    for g, prefix in ((guide, "a"), (other, "b")):
        for n in range(2):
            c = CustomerFactory(store=store, name=f"{prefix}{n}", lifecycle_stage=LifecycleStage.REPEAT)
            FollowRelationFactory(staff=g, customer=c, external_userid=f"wm{prefix}{n}")
            people[f"{prefix}{n}"] = c
    people["new"] = CustomerFactory(store=store, name="新客", lifecycle_stage=LifecycleStage.NEW)
    FollowRelationFactory(staff=guide, customer=people["new"], external_userid="wmnew")
    # Served by both guides: the one who added them first gets the item.
    FollowRelationFactory(staff=other, customer=people["a0"], external_userid="wmshared",
                          added_at=timezone.now() - dt.timedelta(days=90))  # fmt: skip
    return {"guide": guide, "other": other, "manager": manager, "store": store, "c": people}


@pytest.fixture
def make_task(team):
    def make(**overrides) -> Task:
        staff = overrides.pop("staff", team["manager"])
        now = timezone.now()
        values = {
            "name": "复购券",
            "starts_at": now - dt.timedelta(hours=1),
            "deadline": now + dt.timedelta(days=3),
            "spec": {"stages": ["repeat"]},
            "script": "{客户称呼}您好，送您一张券：{券码}",
            "coupon_mode": Task.CouponMode.GENERATE,
            "stores": [team["store"]],
        } | overrides
        return task_create(draft=TaskDraft(**values), staff=staff)

    return make
