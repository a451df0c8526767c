"""Batch tag / untag a segment: every customer once, with timeline events and WeCom pushes queued, and progress."""

import pytest

from scrm.customers.models import CustomerTag, Event, LifecycleStage
from scrm.segments.models import Segment, TagBatch
from scrm.segments.tagging import tag_batch_run
from scrm.wecom.models import TagOutbox
from tests.factories import CustomerFactory, CustomerTagFactory, FollowRelationFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(store, guide, manager, monkeypatch):
    monkeypatch.setattr("scrm.wecom.tag_outbox.tag_outbox_dispatch", lambda row_id: None)  # no WeCom here
    repeat = [CustomerFactory(store=store, lifecycle_stage=LifecycleStage.REPEAT) for _ in range(5)]
    for c in repeat:
        FollowRelationFactory(staff=guide, customer=c)
    other = CustomerFactory(store=store, lifecycle_stage=LifecycleStage.NEW)
    tag = TagFactory(name="双旦活动")
    CustomerTagFactory(customer=repeat[0], tag=tag)  # already tagged: no second event
    segment = Segment.objects.create(name="复购", spec={"stages": ["repeat"]}, store=store)
    return {"repeat": repeat, "other": other, "tag": tag, "segment": segment, "manager": manager}


@pytest.fixture
def start(client, setup, django_capture_on_commit_callbacks):
    def post(action="add", key="k1"):
        client.force_login(setup["manager"].user)
        url = f"/console/customers/segments/{setup['segment'].pk}/tags/"
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, {"tag": setup["tag"].pk, "action": action, "request_key": key})

    return post


def test_tagging_a_segment_tags_each_customer_once_and_queues_wecom(client, setup, start):
    response = start()
    assert response.status_code == 302
    batch = TagBatch.objects.get()  # ran inline (eager Celery) after commit
    batch.refresh_from_db()
    assert (batch.status, batch.total, batch.processed, batch.changed) == ("done", 5, 5, 4)
    tagged = set(CustomerTag.objects.filter(tag=setup["tag"]).values_list("customer_id", flat=True))
    assert tagged == {c.pk for c in setup["repeat"]}
    assert Event.objects.filter(kind="tag_added").count() == 4
    assert TagOutbox.objects.count() == 4
    start()  # the same form submitted twice: one batch
    assert TagBatch.objects.count() == 1
    html = client.get(f"/console/customers/segments/{setup['segment'].pk}/").content.decode()
    assert "5 / 5 位，4 位有变化" in html and "已完成" in html


def test_untagging_and_resuming_after_a_crash(client, setup, start):
    start()
    batch = TagBatch.objects.create(
        segment=setup["segment"], tag=setup["tag"], action="remove", request_key="k2", total=5
    )
    batch.cursor = setup["repeat"][1].pk  # a worker died after the first two
    batch.processed = 2
    batch.save()
    tag_batch_run(batch_id=batch.pk, chunk=2)
    batch.refresh_from_db()
    assert (batch.status, batch.processed, batch.changed) == ("done", 5, 3)
    left = set(CustomerTag.objects.filter(tag=setup["tag"]).values_list("customer_id", flat=True))
    assert left == {setup["repeat"][0].pk, setup["repeat"][1].pk}


def test_bad_tag_or_action_is_refused_in_chinese(client, setup, start):
    response = start(action="explode")
    assert TagBatch.objects.count() == 0
    follow = client.get(response["Location"]).content.decode()
    assert "请选择标签和操作" in follow
    client.post(
        f"/console/customers/segments/{setup['segment'].pk}/tags/",
        {"tag": "9" * 40, "action": "add", "request_key": "x"},
    )
    assert TagBatch.objects.count() == 0
