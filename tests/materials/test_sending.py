"""Sending materials from the sidebar: payload shapes, send records, favourites, recommendations, recent."""

import datetime as dt

import pytest
from django.utils import timezone

from scrm.customers.events import EventKind
from scrm.customers.models import Event, LifecycleStage
from scrm.materials import guide_selectors, sending
from scrm.materials.models import Material, MaterialFavourite, MaterialSend
from scrm.materials.services import material_favourite_set
from scrm.wecom.simulator.chat_views import parse_chat_message
from sidebar.send_outcomes import send_outcome_message
from tests.factories import (
    CustomerFactory,
    CustomerTagFactory,
    FollowRelationFactory,
    MaterialCategoryFactory,
    MaterialFactory,
    MaterialSendFactory,
    StaffFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def wang(guide):
    """A customer the guide has remarked as 王姐, in the guide's store."""
    guide.store.name = "静安嘉里店"
    guide.store.save()
    customer = CustomerFactory(name="王小花", store=guide.store)
    FollowRelationFactory(staff=guide, customer=customer, remark="王姐")
    return customer


def _prepare(material, customer, staff):
    return sending.material_send_prepare(material=material, customer=customer, staff=staff)


# --- payloads --------------------------------------------------------------------------------


def test_text_payload_fills_placeholders_for_this_customer(guide, wang, sendable_materials):
    prepared = _prepare(sendable_materials["text"], wang, guide)

    assert prepared.msg == {
        "msgtype": "text",
        "enterChat": True,
        "text": {"content": "王姐您好，静安嘉里店新品到店啦～"},
    }
    assert prepared.confirm is False
    assert parse_chat_message(prepared.msg) == ("text", {"content": "王姐您好，静安嘉里店新品到店啦～"})


def test_without_a_remark_the_nickname_then_a_polite_word_is_used(guide, sendable_materials):
    named = CustomerFactory(name="陈先生")
    FollowRelationFactory(staff=guide, customer=named)
    nameless = CustomerFactory(name="")
    FollowRelationFactory(staff=guide, customer=nameless)
    text = sendable_materials["text"]

    assert _prepare(text, named, guide).msg["text"]["content"].startswith("陈先生您好")
    assert _prepare(text, nameless, guide).msg["text"]["content"].startswith("您您好")


def test_active_relation_remark_wins_over_an_ended_one(guide, sendable_materials):
    customer = CustomerFactory(name="李")
    FollowRelationFactory(
        staff=guide, customer=customer, remark="旧备注", ended_at=timezone.now() - dt.timedelta(days=10)
    )
    FollowRelationFactory(staff=guide, customer=customer, remark="李姐")

    assert _prepare(sendable_materials["text"], customer, guide).msg["text"]["content"].startswith("李姐您好")


def test_link_payload_is_a_news_card_with_an_absolute_cover_url(guide, wang, sendable_materials, settings):
    settings.SITE_URL = "https://scrm.example.com"
    msg = _prepare(sendable_materials["link"], wang, guide).msg

    assert msg["msgtype"] == "news" and msg["enterChat"] is True
    news = msg["news"]
    assert set(news) == {"link", "title", "desc", "imgUrl"}
    assert news["link"] == "https://brand.example.com/news/1"
    assert news["title"] == "链接素材"
    assert news["desc"] == "王姐，秋冬护肤指南"
    assert news["imgUrl"].startswith("https://scrm.example.com/media/materials/covers/")
    assert parse_chat_message(msg)[0] == "news"


def test_miniprogram_payload_has_appid_title_cover_and_html_page(guide, wang, sendable_materials, settings):
    settings.SITE_URL = "https://scrm.example.com"
    msg = _prepare(sendable_materials["miniprogram"], wang, guide).msg

    assert msg["msgtype"] == "miniprogram" and msg["enterChat"] is True
    card = msg["miniprogram"]
    assert set(card) == {"appid", "title", "imgUrl", "page"}
    assert card["appid"] == "wx0123456789abcdef"
    assert card["page"] == "pages/goods/detail.html?id=42"
    assert card["imgUrl"].startswith("https://scrm.example.com/media/")
    assert parse_chat_message(msg)[0] == "miniprogram"


def test_long_scripts_ask_for_a_confirm(guide, wang):
    long = MaterialFactory(content="{客户称呼}" + "这款精华适合干皮，" * 20)
    short = MaterialFactory(content="在吗？")

    assert _prepare(long, wang, guide).confirm is True
    assert _prepare(short, wang, guide).confirm is False


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Material.Status.DRAFT},
        {"status": Material.Status.UNPUBLISHED},
        {"valid_until": timezone.now() - dt.timedelta(minutes=1)},
        {"valid_from": timezone.now() + dt.timedelta(days=1)},
    ],
)
def test_unsendable_materials_are_refused_with_a_chinese_reason(guide, wang, fields):
    material = MaterialFactory(**fields)

    with pytest.raises(sending.MaterialSendError) as info:
        _prepare(material, wang, guide)
    assert info.value.status == 409
    assert "不能发送" in info.value.message


# --- send records ----------------------------------------------------------------------------


def _record(prepared, customer, staff, status="sent", error=""):
    return sending.material_send_record(
        request_id=prepared.request_id, customer=customer, staff=staff, status=status, error=error
    )


def test_a_sent_report_is_recorded_counted_and_on_the_timeline_once(guide, wang):
    material = MaterialFactory(title="新品话术", send_count=7)
    prepared = _prepare(material, wang, guide)

    first = _record(prepared, wang, guide)
    again = _record(prepared, wang, guide)

    assert first.changed and not again.changed
    assert again.send.pk == first.send.pk
    send = MaterialSend.objects.get()
    assert (send.material, send.staff, send.customer, send.status) == (material, guide, wang, "sent")
    material.refresh_from_db()
    assert material.send_count == 8
    event = Event.objects.get(kind=EventKind.MATERIAL_SENT)
    assert event.customer == wang and event.staff == guide
    assert event.title == f"{guide.name}发送了素材「新品话术」"
    assert event.payload["material_id"] == material.pk and event.payload["request_id"] == prepared.request_id
    assert send_outcome_message(send) == "已发送"


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (
            "failed",
            "sendChatMessage:fail invalid media_id",
            "素材在企业微信已失效，请再点一次发送；仍失败请联系内容运营重新上传。",
        ),
        ("cancelled", "sendChatMessage:cancel", "已取消"),
    ],
)
def test_failed_and_cancelled_sends_keep_the_reason_and_count_nothing(guide, wang, status, error, message):
    material = MaterialFactory()
    outcome = _record(_prepare(material, wang, guide), wang, guide, status=status, error=error)

    assert (outcome.send.status, outcome.send.error) == (status, error)
    assert send_outcome_message(outcome.send) == message
    material.refresh_from_db()
    assert material.send_count == 0
    assert not Event.objects.filter(kind=EventKind.MATERIAL_SENT).exists()


def test_a_failure_later_reported_as_sent_counts_once(guide, wang):
    material = MaterialFactory()
    prepared = _prepare(material, wang, guide)
    _record(prepared, wang, guide, status="failed", error="timeout")

    _record(prepared, wang, guide, status="sent")
    _record(prepared, wang, guide, status="failed", error="late duplicate")

    send = MaterialSend.objects.get()
    assert (send.status, send.error) == ("sent", "")
    material.refresh_from_db()
    assert material.send_count == 1
    assert Event.objects.filter(kind=EventKind.MATERIAL_SENT).count() == 1


def test_request_ids_cannot_be_forged_or_reused_for_another_customer_or_guide(guide, wang):
    prepared = _prepare(MaterialFactory(), wang, guide)
    other_customer = CustomerFactory()
    other_guide = StaffFactory(store=guide.store)
    material_id, nonce, sig = prepared.request_id.split("-")
    tampered = f"{int(material_id) + 1}-{nonce}-{sig}"

    for request_id, customer, staff in [
        (prepared.request_id, other_customer, guide),
        (prepared.request_id, wang, other_guide),
        (tampered, wang, guide),
        ("nonsense", wang, guide),
    ]:
        with pytest.raises(sending.MaterialSendError):
            sending.material_send_record(request_id=request_id, customer=customer, staff=staff, status="sent")
    with pytest.raises(sending.MaterialSendError):
        _record(prepared, wang, guide, status="delivered")
    # Only the tap's own pending row, untouched by every refused report.
    assert list(MaterialSend.objects.values_list("status", flat=True)) == ["pending"]


def test_long_error_messages_are_cut_to_fit(guide, wang):
    outcome = _record(_prepare(MaterialFactory(), wang, guide), wang, guide, status="failed", error="x" * 500)
    assert len(outcome.send.error) == sending.ERROR_MAX


# --- favourites, recent, recommendations ----------------------------------------------------


def _titles(page) -> list[str]:
    return [card.material.title for card in page.cards]


def test_favourites_are_per_guide_and_setting_twice_is_harmless(guide, wang):
    first, second = MaterialFactory(title="甲"), MaterialFactory(title="乙")
    other_guide = StaffFactory(store=guide.store)
    material_favourite_set(staff=guide, material=first, on=True)
    material_favourite_set(staff=guide, material=first, on=True)
    material_favourite_set(staff=guide, material=second, on=True)
    material_favourite_set(staff=other_guide, material=first, on=True)
    material_favourite_set(staff=guide, material=second, on=False)

    assert MaterialFavourite.objects.filter(staff=guide).count() == 1
    page = guide_selectors.material_page(staff=guide, customer=wang, section="fav")
    assert _titles(page) == ["甲"]
    assert page.cards[0].is_favourite
    everything = guide_selectors.material_page(staff=guide, customer=wang, section="all")
    assert {c.material.title: c.is_favourite for c in everything.cards} == {"甲": True, "乙": False}


def test_recent_lists_this_guides_sent_materials_newest_first_once_each(guide, wang):
    now = timezone.now()
    old, new, failed_only, others = (MaterialFactory(title=t) for t in ("旧", "新", "失败", "别人"))
    MaterialSendFactory(material=old, staff=guide, customer=wang, sent_at=now - dt.timedelta(days=3))
    MaterialSendFactory(material=new, staff=guide, customer=wang, sent_at=now - dt.timedelta(days=2))
    MaterialSendFactory(material=old, staff=guide, customer=wang, sent_at=now - dt.timedelta(days=1))
    MaterialSendFactory(material=failed_only, staff=guide, customer=wang, status="failed")
    MaterialSendFactory(material=others, staff=StaffFactory(), customer=wang)

    assert _titles(guide_selectors.material_page(staff=guide, customer=wang, section="recent")) == ["旧", "新"]


def test_recommendations_rank_by_tags_and_stage_then_popularity(guide, wang):
    dry, sensitive, oily = TagFactory(name="干皮"), TagFactory(name="敏感肌"), TagFactory(name="油皮")
    CustomerTagFactory(customer=wang, tag=dry)
    CustomerTagFactory(customer=wang, tag=sensitive)
    wang.lifecycle_stage = LifecycleStage.REPEAT
    wang.save()

    two_tags = MaterialFactory(title="两个标签", send_count=1)
    two_tags.audience_tags.set([dry, sensitive])
    tag_and_stage = MaterialFactory(title="标签加阶段", send_count=5, audience_stages=["repeat"])
    tag_and_stage.audience_tags.set([dry, oily])
    MaterialFactory(title="仅阶段", send_count=3, audience_stages=["new", "repeat"])
    MaterialFactory(title="别的阶段", send_count=500, audience_stages=["prospect"])
    MaterialFactory(title="热门通用", send_count=900)
    other_tag = MaterialFactory(title="别的标签", send_count=50)
    other_tag.audience_tags.set([oily])
    MaterialFactory(title="冷门通用", send_count=2)

    page = guide_selectors.material_page(staff=guide, customer=wang, section="rec")

    # 别的阶段 is for prospects only: after everything that fits a repeat customer, however popular.
    assert _titles(page) == ["标签加阶段", "两个标签", "仅阶段", "热门通用", "别的标签", "冷门通用", "别的阶段"]
    reasons = {c.material.title: c.reasons for c in page.cards}
    assert reasons["两个标签"] == ["干皮", "敏感肌"]
    assert reasons["标签加阶段"] == ["干皮", "复购客"]
    assert reasons["热门通用"] == []


def test_lists_offer_only_sendable_materials(guide, wang):
    now = timezone.now()
    MaterialFactory(title="可发")
    MaterialFactory(title="草稿", status=Material.Status.DRAFT)
    MaterialFactory(title="下架", status=Material.Status.UNPUBLISHED)
    MaterialFactory(title="过期", valid_until=now - dt.timedelta(hours=1))
    MaterialFactory(title="未开始", valid_from=now + dt.timedelta(hours=1))
    MaterialFactory(title="期内", valid_from=now - dt.timedelta(hours=1), valid_until=now + dt.timedelta(hours=1))

    for section in ("rec", "all"):
        page = guide_selectors.material_page(staff=guide, customer=wang, section=section)
        assert sorted(_titles(page)) == ["可发", "期内"]


def test_search_matches_title_content_or_keywords_and_category_includes_children(guide, wang):
    skin = MaterialCategoryFactory(name="护肤")
    serum = MaterialCategoryFactory(name="精华", parent=skin)
    MaterialFactory(title="精华上新", category=serum)
    MaterialFactory(title="面霜", content="{客户称呼}，冬天用这款面霜", category=skin, keywords="保湿")
    MaterialFactory(title="口红", category=MaterialCategoryFactory(name="彩妆"))

    def titles(**kwargs):
        return sorted(_titles(guide_selectors.material_page(staff=guide, customer=wang, section="all", **kwargs)))

    assert titles(q="保湿") == ["面霜"]
    assert titles(q="冬天") == ["面霜"]
    assert titles(q="精华") == ["精华上新"]
    assert titles(category_id=skin.pk) == ["精华上新", "面霜"]
    assert titles(category_id=serum.pk) == ["精华上新"]
    assert titles(q="不存在的词") == []


def test_cards_preview_the_filled_script(guide, wang):
    MaterialFactory(content="{客户称呼}，{不认识}的占位符原样保留")
    card = guide_selectors.material_page(staff=guide, customer=wang, section="all").cards[0]
    assert card.preview == "王姐，{不认识}的占位符原样保留"
    assert card.icon == "💬"


def test_pages_follow_each_other(guide, wang):
    for i in range(25):
        MaterialFactory(title=f"素材{i:02d}", send_count=i)

    first = guide_selectors.material_page(staff=guide, customer=wang, section="rec")
    second = guide_selectors.material_page(staff=guide, customer=wang, section="rec", offset=first.next_offset)

    assert first.has_more and not second.has_more
    assert len(first.cards) == 20 and len(second.cards) == 5
    assert _titles(first) + _titles(second) == [f"素材{i:02d}" for i in range(24, -1, -1)]


# --- ranking edges -----------------------------------------------------------------------------


def _expected_ranking(customer, materials, tag_ids):
    """The documented order, worked out by hand: materials made only for other stages last; then
    audience tags + stage, then sends, then the newer id."""

    def key(material):
        tags = sum(1 for tag in material.audience_tags.all() if tag.pk in tag_ids)
        fits = not material.audience_stages or customer.lifecycle_stage in material.audience_stages
        stage = 1 if customer.lifecycle_stage in material.audience_stages else 0
        return (fits, tags + stage, material.send_count, material.pk)

    return [m.title for m in sorted(materials, key=key, reverse=True)]


def _all_pages(guide, customer, *, size, **kwargs):
    titles, offset, pages = [], 0, 0
    while True:
        page = guide_selectors.material_page(staff=guide, customer=customer, offset=offset, size=size, **kwargs)
        titles += _titles(page)
        pages += 1
        if not page.has_more:
            return titles, pages
        assert len(page.cards) == size
        offset = page.next_offset


def test_recommendation_ties_go_to_the_more_sent_then_to_the_newer(guide, wang):
    dry = TagFactory(name="干皮")
    CustomerTagFactory(customer=wang, tag=dry)
    older = MaterialFactory(title="早", send_count=7)
    newer = MaterialFactory(title="晚", send_count=7)
    more_sent = MaterialFactory(title="多", send_count=8)
    for material in (older, newer, more_sent):
        material.audience_tags.set([dry])
    MaterialFactory(title="通用", send_count=99)

    page = guide_selectors.material_page(staff=guide, customer=wang, section="rec")

    assert _titles(page) == ["多", "晚", "早", "通用"]


def test_a_customer_without_tags_gets_their_stage_first_then_popularity(guide, wang):
    wang.lifecycle_stage = LifecycleStage.DORMANT
    wang.save()
    MaterialFactory(title="唤醒", send_count=1, audience_stages=["dormant"])
    tagged = MaterialFactory(title="有标签", send_count=50)
    tagged.audience_tags.set([TagFactory(name="油皮")])
    MaterialFactory(title="热门", send_count=80)

    page = guide_selectors.material_page(staff=guide, customer=wang, section="rec")

    assert _titles(page) == ["唤醒", "热门", "有标签"]
    assert page.cards[0].reasons == ["沉睡客"]


@pytest.mark.parametrize("size", [1, 3, 4, 7, 20])
def test_recommendation_pages_cross_from_matches_to_popular_without_duplicates_or_gaps(guide, wang, size):
    """Tag matches, stage-only matches and the rest come from separate queries; the pages must not show it."""
    dry, sensitive, oily = TagFactory(name="干皮"), TagFactory(name="敏感肌"), TagFactory(name="油皮")
    CustomerTagFactory(customer=wang, tag=dry)
    CustomerTagFactory(customer=wang, tag=sensitive)
    wang.lifecycle_stage = LifecycleStage.REPEAT
    wang.save()
    combos = [[], [dry], [sensitive], [dry, sensitive], [oily], [dry, oily]]
    stages = [[], ["repeat"], ["new"], ["new", "repeat"]]
    materials = []
    for i in range(30):
        # Few distinct send counts, so ties inside and across the parts are common.
        material = MaterialFactory(title=f"素材{i:02d}", send_count=(i * 7) % 4, audience_stages=stages[i % 4])
        material.audience_tags.set(combos[(i // 4) % len(combos)])
        materials.append(material)
    MaterialFactory(title="草稿", status=Material.Status.DRAFT, audience_stages=["repeat"])

    titles, pages = _all_pages(guide, wang, size=size, section="rec")

    assert titles == _expected_ranking(wang, materials, {dry.pk, sensitive.pk})
    assert pages == -(-30 // size)


def test_recommendations_within_a_search_keep_the_ranking(guide, wang):
    dry = TagFactory(name="干皮")
    CustomerTagFactory(customer=wang, tag=dry)
    matched = MaterialFactory(title="精华 干皮专享", send_count=1)
    matched.audience_tags.set([dry])
    MaterialFactory(title="精华 热门", send_count=90)
    MaterialFactory(title="面霜 热门", send_count=99)

    page = guide_selectors.material_page(staff=guide, customer=wang, section="rec", q="精华")

    assert _titles(page) == ["精华 干皮专享", "精华 热门"]


def test_search_ignores_latin_case_and_takes_wildcards_literally(guide, wang):
    MaterialFactory(title="YSL 小金条", keywords="口红")
    MaterialFactory(title="满 200 减 50%")
    MaterialFactory(title="满 200 减 50 元")
    MaterialFactory(title="新品_上市")

    def titles(q):
        return sorted(_titles(guide_selectors.material_page(staff=guide, customer=wang, section="all", q=q)))

    assert titles("ysl") == ["YSL 小金条"]
    assert titles("Ysl 口红") == ["YSL 小金条"]
    assert titles("50%") == ["满 200 减 50%"]
    assert titles("_") == ["新品_上市"]
    assert titles("%") == ["满 200 减 50%"]


def test_recent_skips_withdrawn_materials_without_hiding_older_ones(guide, wang):
    now = timezone.now()
    kept, withdrawn = MaterialFactory(title="还在"), MaterialFactory(title="已下架")
    MaterialSendFactory(material=kept, staff=guide, customer=wang, sent_at=now - dt.timedelta(days=2))
    MaterialSendFactory(material=withdrawn, staff=guide, customer=wang, sent_at=now - dt.timedelta(days=1))
    withdrawn.status = Material.Status.UNPUBLISHED
    withdrawn.save()

    page = guide_selectors.material_page(staff=guide, customer=wang, section="recent")

    assert _titles(page) == ["还在"]


def test_prepare_stores_a_pending_send_that_does_not_count_until_reported(guide, wang):
    material = MaterialFactory(send_count=3)
    prepared = _prepare(material, wang, guide)

    send = MaterialSend.objects.get(request_id=prepared.request_id)
    assert send.status == "pending"
    material.refresh_from_db()
    assert material.send_count == 3 and not Event.objects.filter(kind=EventKind.MATERIAL_SENT).exists()


def test_a_send_whose_page_never_reported_is_settled_as_sent_once(guide, wang):
    """The guide tapped 发送 and switched customer at once: WeCom delivered, the page never reported."""
    material = MaterialFactory(send_count=0)
    tapped = timezone.now()
    prepared = _prepare(material, wang, guide)

    assert sending.material_sends_settle(now=tapped + sending.SEND_REPORT_WAIT / 2) == 0
    assert sending.material_sends_settle(now=tapped + sending.SEND_REPORT_WAIT * 2) == 1
    assert sending.material_sends_settle(now=tapped + sending.SEND_REPORT_WAIT * 3) == 0

    send = MaterialSend.objects.get(request_id=prepared.request_id)
    assert send.status == "sent" and abs(send.sent_at - tapped) < dt.timedelta(seconds=5)
    material.refresh_from_db()
    assert material.send_count == 1
    assert Event.objects.filter(kind=EventKind.MATERIAL_SENT, customer=wang).count() == 1
    # A late report of the same tap changes nothing.
    assert not _record(prepared, wang, guide).changed
    assert Event.objects.filter(kind=EventKind.MATERIAL_SENT).count() == 1


def test_a_reported_cancel_is_never_settled_as_sent(guide, wang):
    prepared = _prepare(MaterialFactory(), wang, guide)
    _record(prepared, wang, guide, status="cancelled", error="sendChatMessage:cancel")

    assert sending.material_sends_settle(now=timezone.now() + sending.SEND_REPORT_WAIT * 2) == 0
    assert MaterialSend.objects.get().status == "cancelled"


def test_a_long_script_waits_for_the_confirm_before_it_is_pending(guide, wang):
    material = MaterialFactory(kind="text", content="长" * (sending.LONG_SCRIPT + 10))
    prepared = _prepare(material, wang, guide)
    assert prepared.confirm and not MaterialSend.objects.exists()

    _record(prepared, wang, guide, status="pending")

    assert MaterialSend.objects.get().status == "pending"
