"""The 推荐 list ranks from a per-process snapshot of the library: what guides see when the library
changes while the snapshot is held."""

import datetime as dt

import pytest
from django.utils import timezone

from scrm.customers.models import LifecycleStage
from scrm.materials import guide_selectors, ranking, sending
from scrm.materials.models import Material
from scrm.materials.services import material_publish, material_unpublish, material_update
from tests.factories import CustomerTagFactory, MaterialFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def wang(followed_customer):
    return followed_customer


def _rec(guide, customer, **kwargs):
    return [
        card.material.title for card in guide_selectors.material_page(staff=guide, customer=customer, **kwargs).cards
    ]


def test_a_material_published_after_the_list_was_read_shows_on_the_next_open(guide, wang):
    wang.lifecycle_stage = LifecycleStage.NEW
    wang.save()
    MaterialFactory(title="在架", send_count=5)
    draft = MaterialFactory(title="新品", status="draft", send_count=0, audience_stages=["new"])
    assert _rec(guide, wang) == ["在架"]

    material_publish(material=draft)

    assert _rec(guide, wang) == ["新品", "在架"]


def test_new_audience_tags_rank_a_material_up_at_once(guide, wang):
    dry = TagFactory(name="干皮")
    CustomerTagFactory(customer=wang, tag=dry)
    MaterialFactory(title="热门", send_count=90)
    plain = MaterialFactory(title="保湿", send_count=1)
    assert _rec(guide, wang) == ["热门", "保湿"]

    material_update(material=plain, audience_tags=[dry])

    page = guide_selectors.material_page(staff=guide, customer=wang)
    assert [c.material.title for c in page.cards] == ["保湿", "热门"]
    assert page.cards[0].reasons == ["干皮"]


def test_a_withdrawn_material_never_shows_and_the_page_stays_full(guide, wang):
    materials = [MaterialFactory(title=f"素材{i:02d}", send_count=100 - i) for i in range(25)]
    assert len(guide_selectors.material_page(staff=guide, customer=wang).cards) == 20
    # Withdrawn without touching updated_at (a bulk update, as Django admin's actions do), so the
    # snapshot is kept: the pages' own reads must drop it.
    Material.objects.filter(pk=materials[0].pk).update(status=Material.Status.UNPUBLISHED)

    first = guide_selectors.material_page(staff=guide, customer=wang)
    second = guide_selectors.material_page(staff=guide, customer=wang, offset=first.next_offset)

    titles = [c.material.title for c in first.cards + second.cards]
    assert "素材00" not in titles
    assert titles == [f"素材{i:02d}" for i in range(1, 25)]
    assert len(first.cards) == 20 and first.has_more and not second.has_more


def test_many_withdrawn_at_once_still_leave_a_full_page_and_more(guide, wang):
    materials = [MaterialFactory(title=f"素材{i:02d}", send_count=100 - i) for i in range(40)]
    assert len(guide_selectors.material_page(staff=guide, customer=wang).cards) == 20
    # Twelve of the most sent deleted behind the snapshot's back (more than the page's slack).
    Material.objects.filter(pk__in=[m.pk for m in materials[:12]]).delete()

    first = guide_selectors.material_page(staff=guide, customer=wang)
    second = guide_selectors.material_page(staff=guide, customer=wang, offset=first.next_offset)

    assert [c.material.title for c in first.cards] == [f"素材{i:02d}" for i in range(12, 32)]
    assert first.has_more
    assert [c.material.title for c in second.cards] == [f"素材{i:02d}" for i in range(32, 40)]
    assert not second.has_more


def test_a_change_the_stamp_missed_shows_after_a_full_reload(guide, wang, settings, monkeypatch):
    settings.MATERIAL_RANKING_TTL = 60
    MaterialFactory(title="在架", send_count=5)
    late = MaterialFactory(title="晚提交", status="draft", send_count=50)
    assert _rec(guide, wang) == ["在架"]
    # Published by a transaction that saved before the snapshot's newest change but committed after it.
    Material.objects.filter(pk=late.pk).update(status=Material.Status.PUBLISHED, updated_at=late.updated_at)

    clock = ranking.time.monotonic()
    monkeypatch.setattr(ranking.time, "monotonic", lambda: clock + 61)
    assert _rec(guide, wang) == ["在架"]  # only the send counts were read again
    monkeypatch.setattr(ranking.time, "monotonic", lambda: clock + 60 * ranking.FULL_LOAD_EVERY + 1)
    assert _rec(guide, wang) == ["晚提交", "在架"]


def test_unpublishing_takes_a_material_off_the_next_list(guide, wang):
    top = MaterialFactory(title="下架中", send_count=9)
    MaterialFactory(title="在架", send_count=1)
    assert _rec(guide, wang) == ["下架中", "在架"]

    material_unpublish(material=top)

    assert _rec(guide, wang) == ["在架"]


def test_a_validity_window_ending_while_the_snapshot_is_held_takes_the_material_off(guide, wang):
    now = timezone.now()
    MaterialFactory(title="限时", send_count=9, valid_until=now + dt.timedelta(minutes=5))
    MaterialFactory(title="长期", send_count=1)
    assert _rec(guide, wang, now=now) == ["限时", "长期"]

    assert _rec(guide, wang, now=now + dt.timedelta(minutes=6)) == ["长期"]


def test_popularity_is_reread_once_the_snapshot_is_older_than_the_ttl(guide, wang, settings, monkeypatch):
    settings.MATERIAL_RANKING_TTL = 60
    rising = MaterialFactory(title="上升", send_count=1)
    MaterialFactory(title="老牌", send_count=2)
    assert _rec(guide, wang) == ["老牌", "上升"]
    for _ in range(2):
        request_id = sending.send_request_id(material_id=rising.pk, customer_id=wang.pk, staff_id=guide.pk)
        sending.material_send_record(request_id=request_id, customer=wang, staff=guide, status="sent")

    clock = ranking.time.monotonic()
    monkeypatch.setattr(ranking.time, "monotonic", lambda: clock + 30)
    assert _rec(guide, wang) == ["老牌", "上升"]  # sends do not reload the library on every tap
    monkeypatch.setattr(ranking.time, "monotonic", lambda: clock + 61)
    assert _rec(guide, wang) == ["上升", "老牌"]


def test_the_stamp_is_read_once_a_second_and_service_writes_skip_the_wait(guide, wang, monkeypatch):
    monkeypatch.setattr(ranking, "STAMP_EVERY", 1.0)
    clock = ranking.time.monotonic()
    monkeypatch.setattr(ranking.time, "monotonic", lambda: clock)
    MaterialFactory(title="在架", send_count=5)
    assert _rec(guide, wang) == ["在架"]

    MaterialFactory(title="后台新增", send_count=9)  # written outside the services (e.g. Django admin)
    assert _rec(guide, wang) == ["在架"]
    monkeypatch.setattr(ranking.time, "monotonic", lambda: clock + 1.5)
    assert _rec(guide, wang) == ["后台新增", "在架"]

    draft = MaterialFactory(title="新发布", status="draft", send_count=20)
    material_publish(material=draft)  # the service marks this process's snapshot stale at once
    assert _rec(guide, wang) == ["新发布", "后台新增", "在架"]


def test_ranking_inside_a_search_or_category_reads_the_snapshot_too(guide, wang):
    wang.lifecycle_stage = LifecycleStage.DORMANT
    wang.save()
    MaterialFactory(title="精华 唤醒", send_count=1, audience_stages=["dormant"])
    MaterialFactory(title="精华 热门", send_count=50)
    MaterialFactory(title="面霜 唤醒", send_count=80, audience_stages=["dormant"])

    assert _rec(guide, wang, q="精华") == ["精华 唤醒", "精华 热门"]
    assert _rec(guide, wang) == ["面霜 唤醒", "精华 唤醒", "精华 热门"]
