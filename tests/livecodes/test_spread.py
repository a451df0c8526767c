"""Spreading rules WeCom cannot express: single, round robin, least today, by store, caps with backups,
working hours with an off-hours guide; pushed to WeCom as the code's user list, each change logged."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import TestCase
from django.utils import timezone

from scrm.livecodes import services, sync
from scrm.livecodes.models import LiveCode, LiveCodeAdd, LiveCodeDayCount, LiveCodeDecision
from scrm.livecodes.spread import in_working_hours, users_for
from tests.factories import FollowRelationFactory, StaffFactory, StoreFactory

Reason = LiveCodeDecision.Reason
TZ = timezone.get_fixed_timezone(8 * 60)


def at(hour: int, minute: int = 0, day: int = 5) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def wecom(monkeypatch):
    """Stands in for WeCom's contact-way calls; records every user list pushed."""
    calls = {"add": [], "update": [], "del": []}
    lock = threading.Lock()

    def add_contact_way(**kw):
        with lock:
            calls["add"].append(kw)
            return {"config_id": f"cw{len(calls['add'])}", "qr_code": ""}

    def update_contact_way(config_id, **kw):
        with lock:
            calls["update"].append(kw)

    def del_contact_way(config_id):
        calls["del"].append(config_id)

    monkeypatch.setattr(services.api, "add_contact_way", add_contact_way)
    monkeypatch.setattr(services.api, "update_contact_way", update_contact_way)
    monkeypatch.setattr(services.api, "del_contact_way", del_contact_way)
    return calls


@pytest.fixture
def team(db):
    store = StoreFactory(name="静安嘉里店")
    a, b, c = (StaffFactory(store=store, name=n, userid=u) for n, u in (("甲", "ga"), ("乙", "gb"), ("丙", "gc")))
    backup = StaffFactory(store=store, name="备用", userid="gz")
    night = StaffFactory(store=store, name="夜班", userid="gn")
    return {"store": store, "a": a, "b": b, "c": c, "backup": backup, "night": night}


def make(team, *, guides=("a", "b", "c"), backups=(), mode="round_robin", **kw) -> LiveCode:
    data = services.CodeInput(
        name="柜台码",
        channel_group="counter",
        store=team["store"],
        spread_mode=mode,
        guides=[team[k] for k in guides],
        backups=[team[k] for k in backups],
        **kw,
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.livecode_create(data=data, created_by=None)


def add(code, staff, relation=None, at=None):
    relation = relation or FollowRelationFactory(staff=staff)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.livecode_add_record(code=code, relation=relation, staff=staff, added_at=at or timezone.now())


def count(code, staff, n, day=None):
    LiveCodeDayCount.objects.update_or_create(
        code=code, staff=staff, day=day or timezone.localdate(), defaults={"count": n}
    )


@pytest.mark.django_db
def test_single_mode_answers_with_the_first_guide_and_a_backup_once_capped(team, wecom):
    code = make(team, guides=("a",), backups=("backup",), mode="single", daily_cap=2)
    assert users_for(code).users == ["ga"]
    count(code, team["a"], 2)
    spread = users_for(code)
    assert (spread.users, spread.reason) == (["gz"], Reason.CAP_REACHED)
    assert "甲 今日已达上限 2 人" in spread.detail


@pytest.mark.django_db
def test_round_robin_drops_capped_guides_and_falls_back_to_backups(team, wecom):
    code = make(team, backups=("backup",), daily_cap=3)
    assert users_for(code).users == ["ga", "gb", "gc"]
    count(code, team["b"], 3)
    assert users_for(code).users == ["ga", "gc"]
    count(code, team["a"], 3)
    count(code, team["c"], 5)
    assert users_for(code).users == ["gz"]


@pytest.mark.django_db
def test_everyone_capped_and_no_backup_keeps_the_code_answering_and_says_so(team, wecom):
    code = make(team, daily_cap=1)
    for k in ("a", "b", "c"):
        count(code, team[k], 1)
    spread = users_for(code)
    assert spread.users == ["ga", "gb", "gc"] and "没有备用导购" in spread.detail


@pytest.mark.django_db
def test_least_today_offers_only_the_least_loaded_guides(team, wecom):
    code = make(team, mode="least_today")
    count(code, team["a"], 2)
    count(code, team["b"], 1)
    count(code, team["c"], 1)
    spread = users_for(code)
    assert (spread.users, spread.reason) == (["gb", "gc"], Reason.LEAST_TODAY)
    # Yesterday's adds do not count today.
    count(code, team["b"], 9, day=timezone.localdate() - dt.timedelta(days=1))
    assert users_for(code).users == ["gb", "gc"]


@pytest.mark.django_db
def test_by_store_answers_with_every_active_guide_of_the_store(team, wecom):
    StaffFactory(store=StoreFactory(), userid="elsewhere")
    team["c"].is_active = False
    team["c"].save()
    code = make(team, guides=(), backups=("backup",), mode="by_store")
    assert users_for(code).users == ["ga", "gb", "gn"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "start, end, now, inside",
    [
        (dt.time(9), dt.time(21), at(8, 59), False),
        (dt.time(9), dt.time(21), at(9), True),
        (dt.time(9), dt.time(21), at(21), False),
        (dt.time(22), dt.time(2), at(23), True),
        (dt.time(22), dt.time(2), at(1, 59), True),
        (dt.time(22), dt.time(2), at(12), False),
    ],
)
def test_working_hours_including_ranges_over_midnight(start, end, now, inside):
    assert in_working_hours(LiveCode(work_start=start, work_end=end), now) is inside


@pytest.mark.django_db
def test_off_hours_hand_the_code_to_the_off_hours_guide_and_back(team, wecom, monkeypatch):
    # Created at noon whatever the clock says (created after 21:00 it starts with the night guide).
    with monkeypatch.context() as patched:
        patched.setattr(timezone, "now", lambda: at(12))
        code = make(team, work_start=dt.time(9), work_end=dt.time(21), off_hours_guide=team["night"])
    assert users_for(code, now=at(12)).users == ["ga", "gb", "gc"]

    sync.livecodes_sync_due(now=at(22))
    code.refresh_from_db()
    assert code.wecom_users == ["gn"]
    assert code.decisions.first().reason == Reason.HOURS
    assert "夜班" in code.decisions.first().detail

    pushes = len(wecom["update"])
    sync.livecodes_sync_due(now=at(23))  # nothing changed: no WeCom call, no log line
    assert len(wecom["update"]) == pushes

    sync.livecodes_sync_due(now=at(9, 1, day=6))
    code.refresh_from_db()
    assert code.wecom_users == ["ga", "gb", "gc"]


@pytest.mark.django_db
def test_the_add_that_reaches_the_cap_pushes_a_new_list_and_logs_why(team, wecom):
    code = make(team, guides=("a", "b"), backups=("backup",), daily_cap=2)
    now = timezone.now()
    for _ in range(2):
        add(code, team["a"], at=now)
    code.refresh_from_db()
    assert code.wecom_users == ["gb"]
    assert wecom["update"][-1] == {"user": ["gb"]}
    decision = code.decisions.first()
    assert (decision.reason, decision.users_before, decision.users_after) == (Reason.CAP_REACHED, ["ga", "gb"], ["gb"])

    # WeCom handed one more to 甲 before the new list reached it: counted apart, never past the cap.
    relation = FollowRelationFactory(staff=team["a"])
    outcome = add(code, team["a"], relation, at=now)
    assert outcome.add.over_cap
    counter = LiveCodeDayCount.objects.get(code=code, staff=team["a"])
    assert (counter.count, counter.over_cap) == (2, 1)
    # The same relation again (a redelivered callback) counts nothing.
    assert not add(code, team["a"], relation, at=now).created
    assert LiveCodeDayCount.objects.get(code=code, staff=team["a"]).over_cap == 1

    # Midnight: caps start again.
    sync.livecodes_sync_due(now=now + dt.timedelta(days=1))
    code.refresh_from_db()
    assert code.wecom_users == ["ga", "gb"]


@pytest.mark.django_db
def test_a_deleted_code_is_deleted_in_wecom(team, wecom):
    code = make(team)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.livecode_delete(code=code)
    code.refresh_from_db()
    assert wecom["del"] == ["cw1"] and code.config_id == "" and code.deleted_at


@pytest.mark.django_db
def test_a_sync_wecom_refuses_is_recorded_on_the_code(team, monkeypatch):
    from scrm.wecom.errors import WeComError

    def refuse(**kw):
        raise WeComError(40003, "invalid userid", retryable=False, path="externalcontact/add_contact_way")

    monkeypatch.setattr(services.api, "add_contact_way", refuse)
    code = make(team)
    code.refresh_from_db()
    assert code.sync_status == LiveCode.SyncStatus.FAILED and code.sync_error.startswith("40003")
    assert code.decisions.first().reason == Reason.SYNC_FAILED


# --- concurrency (PostgreSQL) -------------------------------------------------------------------


def _pg_only():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency need PostgreSQL")


def _all_at_once(jobs, workers=20):
    from django.db import connection

    start = threading.Barrier(workers)
    errors = []

    def run(job):
        try:
            job()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    def warm(_):
        try:
            start.wait(timeout=30)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(warm, range(workers)))  # every worker thread up before the burst
        list(pool.map(run, jobs))
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_200_simultaneous_adds_to_one_guide_never_count_past_the_cap(team, wecom):
    _pg_only()
    code = make(team, guides=("a", "b"), backups=("backup",), daily_cap=50)
    relations = [FollowRelationFactory(staff=team["a"]) for _ in range(200)]
    now = timezone.now()

    _all_at_once(
        [
            (lambda r=r: services.livecode_add_record(code=code, relation=r, staff=team["a"], added_at=now))
            for r in relations
        ]
    )

    counter = LiveCodeDayCount.objects.get(code=code, staff=team["a"])
    assert (counter.count, counter.over_cap) == (50, 150)
    assert LiveCodeAdd.objects.filter(code=code).count() == 200
    assert LiveCodeAdd.objects.filter(code=code, over_cap=False).count() == 50
    code.refresh_from_db()
    assert "ga" not in code.wecom_users
    assert wecom["update"][-1]["user"] == ["gb"]


@pytest.mark.django_db(transaction=True)
def test_200_simultaneous_adds_spread_over_a_team_keep_every_cap(team, wecom):
    _pg_only()
    code = make(team, backups=("backup",), daily_cap=40)
    guides = [team["a"], team["b"], team["c"], team["backup"]]
    relations = [(FollowRelationFactory(staff=guides[i % 4]), guides[i % 4]) for i in range(200)]
    now = timezone.now()

    _all_at_once(
        [
            (lambda r=r, s=s: services.livecode_add_record(code=code, relation=r, staff=s, added_at=now))
            for r, s in relations
        ]
    )

    counts = {c.staff_id: (c.count, c.over_cap) for c in LiveCodeDayCount.objects.filter(code=code)}
    for guide in guides[:3]:
        assert counts[guide.pk] == (40, 10)
    assert counts[team["backup"].pk] == (50, 0)  # backups have no cap
    code.refresh_from_db()
    assert code.wecom_users == ["gz"]


@pytest.mark.django_db
def test_the_sweep_fetches_a_qr_image_whose_copy_failed(team, wecom, monkeypatch):
    code = make(team)
    LiveCode.objects.filter(pk=code.pk).update(qr_code="https://wework.qpic.cn/qr.png")
    fetched = []
    monkeypatch.setattr(sync, "livecode_qr_fetch", lambda *, code: fetched.append(code.pk))
    sync.livecodes_sync_due()
    assert fetched == [code.pk]


@pytest.mark.django_db
def test_the_state_of_a_code_with_adds_cannot_change(team, wecom):
    from django.core.exceptions import ValidationError

    code = make(team)
    add(code, team["a"])
    data = services.CodeInput(
        name="柜台码", channel_group="counter", store=team["store"], spread_mode="round_robin",
        guides=[team["a"]], backups=[], state="renamed",
    )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        services.livecode_update(code=code, data=data)
    assert "不能再修改渠道标识" in str(exc.value)


@pytest.mark.django_db
def test_a_code_is_created_in_wecom_once_when_two_syncs_meet(team, wecom):
    from django.core.cache import cache

    code = make(team)
    LiveCode.objects.filter(pk=code.pk).update(config_id="", qr_code="")
    cache.add(f"livecodes:create:{code.pk}", "1", timeout=60)  # another process is creating it
    sync.livecode_sync(code_id=code.pk, reason=Reason.CREATED)
    assert len(wecom["add"]) == 1  # only the first, from make()
    cache.delete(f"livecodes:create:{code.pk}")
    sync.livecode_sync(code_id=code.pk, reason=Reason.CREATED)
    assert len(wecom["add"]) == 2
