"""wecom_sync against the live simulator: complete, non-destructive, and idempotent."""

from io import StringIO

import pytest
from django.core.management import call_command

from scrm.customers.models import (
    Customer,
    CustomerTag,
    Event,
    FollowRelation,
    Identity,
    IdentityKind,
    Note,
    Tag,
    TagGroup,
)
from scrm.org.models import Staff
from scrm.wecom import api
from scrm.wecom.simulator.models import SimFollowUser, SimTag
from scrm.wecom.sync import wecom_sync_all
from tests.factories import CustomerFactory, FollowRelationFactory, IdentityFactory, NoteFactory, StaffFactory

MODELS = [Staff, Customer, Identity, FollowRelation, CustomerTag, Event, Tag, TagGroup, Note]


def _snapshot():
    """Every row's primary key and last change, per model: equal snapshots mean nothing was written."""
    snap = {}
    for model in MODELS:
        fields = ["pk"] + [f for f in ("updated_at", "deleted", "ended_at", "is_active") if _has(model, f)]
        snap[model.__name__] = sorted(model.objects.values_list(*fields))
    return snap


def _has(model, name):
    return any(f.name == name for f in model._meta.get_fields())


@pytest.fixture
def corp(wecom_sim, store):
    """Two guides with 3 customers (one shared), tags, and a departed member."""
    wecom_sim.member_add(userid="ga", name="导购甲")
    wecom_sim.member_add(userid="gb", name="导购乙")
    group = wecom_sim.tag_group_add(name="肤质", tags=["干皮", "油皮"])
    dry, oily = (group.tags.get(name=n).tag_id for n in ("干皮", "油皮"))
    wecom_sim.contact_add(external_userid="wm1", name="客户一", unionid="u1")
    wecom_sim.contact_add(external_userid="wm2", name="客户二")
    wecom_sim.contact_add(external_userid="wm3", name="客户三", gender=1)
    wecom_sim.follow_add(userid="ga", external_userid="wm1", remark="一号", tags=[dry], state="qr1")
    wecom_sim.follow_add(userid="ga", external_userid="wm2", tags=[oily])
    wecom_sim.follow_add(userid="gb", external_userid="wm1", tags=[oily])
    wecom_sim.follow_add(userid="gb", external_userid="wm3")
    return wecom_sim


def test_sync_pulls_members_tags_and_every_contact(corp):
    report = wecom_sync_all()

    assert report.errors == []
    assert set(Staff.objects.values_list("userid", "name")) == {("ga", "导购甲"), ("gb", "导购乙")}
    assert set(Tag.objects.values_list("name", flat=True)) == {"干皮", "油皮"}
    assert Customer.objects.count() == 3
    assert FollowRelation.objects.filter(ended_at__isnull=True).count() == 4
    one = Identity.objects.get(kind=IdentityKind.WECOM, value="wm1").customer
    assert Identity.objects.get(kind=IdentityKind.UNIONID, value="u1").customer == one
    assert set(one.customer_tags.values_list("tag__name", flat=True)) == {"干皮", "油皮"}
    assert FollowRelation.objects.get(staff__userid="ga", external_userid="wm1").state == "qr1"
    assert Event.objects.filter(kind="friend_added").count() == 4


def test_second_run_changes_nothing(corp):
    wecom_sync_all()
    before = _snapshot()

    report = wecom_sync_all()

    assert _snapshot() == before
    assert report.staff_changed == report.tags_changed == report.relations_created == 0
    assert report.relations_updated == report.relations_ended == report.tags_added == report.tags_removed == 0


def test_sync_pages_through_more_than_one_batch(corp, monkeypatch):
    calls = []
    real = api.batch_get_by_user

    def small_pages(userids, *, cursor="", limit=api.MAX_BATCH):
        calls.append(cursor)
        return real(userids, cursor=cursor, limit=1)

    monkeypatch.setattr(api, "batch_get_by_user", small_pages)

    wecom_sync_all()

    assert len(calls) >= 4
    assert FollowRelation.objects.filter(ended_at__isnull=True).count() == 4


def test_changes_in_wecom_are_applied_without_losing_local_history(corp):
    wecom_sync_all()
    relation = FollowRelation.objects.get(staff__userid="gb", external_userid="wm3")
    note = NoteFactory(customer=relation.customer, staff=relation.staff)
    SimFollowUser.objects.filter(member__userid="gb", contact__external_userid="wm3").delete()
    SimFollowUser.objects.filter(member__userid="ga", contact__external_userid="wm2").update(remark="新备注", tags=[])
    SimTag.objects.filter(name="干皮").update(deleted=True)
    corp.member_depart(userid="gb")

    report = wecom_sync_all()

    assert report.staff_departed == 1
    gb = Staff.objects.get(userid="gb")
    assert gb.is_active is False and gb.departed_at is not None
    assert Tag.objects.get(name="干皮").deleted is True
    changed = FollowRelation.objects.get(staff__userid="ga", external_userid="wm2")
    assert changed.remark == "新备注"
    assert not changed.customer.customer_tags.exists()
    # gb is no longer a follow user: their relations are not judged by this run.
    relation.refresh_from_db()
    assert relation.ended_at is None
    assert Note.objects.filter(pk=note.pk).exists()


def test_relation_gone_from_wecom_is_ended_not_deleted(corp):
    wecom_sync_all()
    SimFollowUser.objects.filter(member__userid="ga", contact__external_userid="wm2").delete()

    report = wecom_sync_all()

    assert report.relations_ended == 1
    relation = FollowRelation.objects.get(staff__userid="ga", external_userid="wm2")
    assert relation.ended_at is not None
    assert relation.ended_by == FollowRelation.EndedBy.STAFF
    assert Event.objects.filter(customer=relation.customer).exists()


def test_a_failing_page_ends_nothing(corp, monkeypatch):
    wecom_sync_all()
    corp.fault_inject(path="externalcontact/batch/get_by_user", errcode=60011)

    report = wecom_sync_all()

    assert report.errors
    assert FollowRelation.objects.filter(ended_at__isnull=True).count() == 4


def test_existing_local_customer_is_reused(corp):
    local = CustomerFactory(name="小程序会员")
    IdentityFactory(customer=local, kind=IdentityKind.UNIONID, value="u1")
    staff = StaffFactory(userid="ga")
    FollowRelationFactory(staff=staff, customer=local, external_userid="wm1")

    wecom_sync_all()

    assert Identity.objects.get(kind=IdentityKind.WECOM, value="wm1").customer == local
    assert FollowRelation.objects.filter(external_userid="wm1", staff=staff).count() == 1
    assert Customer.objects.count() == 3


def test_command_prints_a_report(corp):
    out = StringIO()

    call_command("wecom_sync", stdout=out)

    assert "relations_created: 4" in out.getvalue()
    assert "同步完成" in out.getvalue()


def test_the_nightly_sync_never_runs_twice_at_once(monkeypatch):
    from django.core.cache import cache

    from scrm.wecom import tasks

    calls = []
    monkeypatch.setattr(tasks.sync, "wecom_sync_all", lambda: calls.append(1))
    cache.add(tasks.SYNC_LOCK, "1")
    assert tasks.wecom_sync() == {"skipped": "already running"}
    assert calls == []
    cache.delete(tasks.SYNC_LOCK)


def test_retry_backoff_is_jittered_and_capped():
    from scrm.wecom.tasks import _backoff

    waits = {_backoff(3) for _ in range(50)}
    assert len(waits) > 1 and max(waits) <= 80
    assert max(_backoff(20) for _ in range(50)) <= 600
