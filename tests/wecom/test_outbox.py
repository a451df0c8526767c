"""The tag outbox against the live simulator: local tag edits reach WeCom, or visibly fail."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from scrm.customers.models import CustomerTag, FollowRelation, Tag, TagGroup, TagSource
from scrm.wecom import tag_outbox, tasks
from scrm.wecom.models import TagOutbox
from scrm.wecom.simulator.models import SimFollowUser


@pytest.fixture
def pair(wecom_sim, followed_customer, guide):
    """The guide's customer exists in WeCom too, and a corp tag exists on both sides."""
    relation = FollowRelation.objects.get(customer=followed_customer)
    wecom_sim.member_add(userid=guide.userid)
    wecom_sim.follow_add(userid=guide.userid, external_userid=relation.external_userid)
    group = wecom_sim.tag_group_add(name="偏好", tags=["口红"])
    sim_tag = group.tags.get()
    tag = Tag.objects.create(
        group=TagGroup.objects.create(name="偏好", wecom_group_id=group.group_id),
        name="口红",
        wecom_tag_id=sim_tag.tag_id,
    )
    return relation, tag


def _tag_locally(relation, tag):
    """What the sidebar does: the local edit and the outbox row in one transaction."""
    with transaction.atomic():
        CustomerTag.objects.create(customer=relation.customer, tag=tag, added_by=relation.staff)
        return tag_outbox.tag_outbox_enqueue(
            userid=relation.staff.userid, external_userid=relation.external_userid, add=[tag.pk], remove=[]
        )


def _sim_tags(relation):
    return SimFollowUser.objects.get(contact__external_userid=relation.external_userid).tags


def test_push_sets_the_tag_in_wecom(pair):
    relation, tag = pair

    row = _tag_locally(relation, tag)

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (TagOutbox.Status.DONE, 1, "")
    assert _sim_tags(relation) == [tag.wecom_tag_id]


def test_remove_is_pushed_too(pair):
    relation, tag = pair
    _tag_locally(relation, tag)

    tag_outbox.tag_outbox_enqueue(
        userid=relation.staff.userid, external_userid=relation.external_userid, add=[], remove=[tag.pk]
    )

    assert _sim_tags(relation) == []


def test_rate_limit_is_retried_then_succeeds(pair, wecom_sim):
    relation, tag = pair
    wecom_sim.fault_inject(path="externalcontact/mark_tag", errcode=45009, times=2)

    row = _tag_locally(relation, tag)

    row.refresh_from_db()
    assert (row.status, row.attempts) == (TagOutbox.Status.DONE, 3)
    assert _sim_tags(relation) == [tag.wecom_tag_id]


def test_rate_limit_that_never_ends_marks_the_row_failed(pair, wecom_sim):
    relation, tag = pair
    wecom_sim.fault_inject(path="externalcontact/mark_tag", errcode=45009, times=50)

    row = _tag_locally(relation, tag)

    row.refresh_from_db()
    assert (row.status, row.attempts) == (TagOutbox.Status.FAILED, tag_outbox.TAG_PUSH_MAX_ATTEMPTS)
    assert "45009" in row.last_error
    assert CustomerTag.objects.filter(customer=relation.customer, tag=tag).exists()


def test_permanent_failure_keeps_the_local_tag_and_shows_failed(pair, wecom_sim, admin_client):
    relation, tag = pair
    wecom_sim.fault_inject(path="externalcontact/mark_tag", errcode=84061)

    row = _tag_locally(relation, tag)

    row.refresh_from_db()
    assert (row.status, row.attempts) == (TagOutbox.Status.FAILED, 1)
    assert "84061" in row.last_error
    assert CustomerTag.objects.filter(customer=relation.customer, tag=tag).exists()
    assert _sim_tags(relation) == []
    page = admin_client.get("/admin/wecom/tagoutbox/?status__exact=failed").content.decode()
    assert "84061" in page


def test_admin_push_again_sends_a_failed_row(pair, wecom_sim, admin_client):
    relation, tag = pair
    wecom_sim.fault_inject(path="externalcontact/mark_tag", errcode=84061)
    row = _tag_locally(relation, tag)

    response = admin_client.post("/admin/wecom/tagoutbox/", {"action": "push_again", "_selected_action": [row.pk]})

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == TagOutbox.Status.DONE
    assert _sim_tags(relation) == [tag.wecom_tag_id]


def test_local_only_tags_are_not_pushed(pair, wecom_sim):
    relation, tag = pair
    local = Tag.objects.create(group=tag.group, name="本地", source=TagSource.LOCAL)
    # Any call would fail: proves none is made.
    wecom_sim.fault_inject(path="externalcontact/mark_tag", errcode=84061)

    row = tag_outbox.tag_outbox_enqueue(
        userid=relation.staff.userid, external_userid=relation.external_userid, add=[local.pk], remove=[]
    )

    row.refresh_from_db()
    assert row.status == TagOutbox.Status.DONE


def test_sweep_pushes_rows_whose_dispatch_was_lost(pair, monkeypatch):
    relation, tag = pair
    real_delay = tasks.push_tag_outbox.delay

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis unreachable")

    monkeypatch.setattr(tasks.push_tag_outbox, "delay", broker_down)
    row = _tag_locally(relation, tag)
    row.refresh_from_db()
    assert row.status == TagOutbox.Status.PENDING
    monkeypatch.setattr(tasks.push_tag_outbox, "delay", real_delay)

    assert tasks.sweep_tag_outbox() == 0  # too fresh: its own dispatch may still be on the way
    TagOutbox.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(minutes=2))
    assert tasks.sweep_tag_outbox() == 1

    row.refresh_from_db()
    assert row.status == TagOutbox.Status.DONE
    assert _sim_tags(relation) == [tag.wecom_tag_id]


def test_a_done_row_is_never_pushed_again(pair, wecom_sim):
    relation, tag = pair
    row = _tag_locally(relation, tag)
    wecom_sim.fault_inject(path="externalcontact/mark_tag", errcode=84061)

    assert tag_outbox.tag_outbox_push(row_id=row.pk) == TagOutbox.Status.DONE
    row.refresh_from_db()
    assert (row.status, row.attempts) == (TagOutbox.Status.DONE, 1)
