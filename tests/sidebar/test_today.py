"""The 今日 workbench page: ranked list, filters, counters, empty state, snooze / dismiss / done."""

import datetime as dt

import pytest
from django.utils import timezone

from scrm.today.models import ReminderItem, SopRule
from scrm.today.services import reminders_refresh
from tests.factories import CustomerFactory, FollowRelationFactory, MaterialFactory, StaffFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "today-list"}


@pytest.fixture
def book(guide):
    today = timezone.localdate()
    soon = CustomerFactory(name="王女士", birthday=today.replace(year=1990) + dt.timedelta(days=0))
    later = CustomerFactory(name="李先生", birthday=today.replace(year=1991) + dt.timedelta(days=5))
    relations = [FollowRelationFactory(staff=guide, customer=c) for c in (soon, later)]
    reminders_refresh(customer_ids=[soon.pk, later.pk])
    return relations


def _item(name):
    return ReminderItem.objects.get(customer__name=name)


def test_needs_sign_in(client):
    response = client.get("/sidebar/today/")
    assert response.status_code == 302 and "/sidebar/login/" in response["Location"]


def test_ranked_list_with_reason_counters_and_chat_button(guide_client, book):
    response = guide_client.get("/sidebar/today/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("王女士") < html.index("李先生")
    assert "今天生日" in html and "5 天后生日" in html
    assert f'data-open-chat="{book[0].external_userid}"' in html
    assert "全部 2" in html and 'data-kind="birthday"' in html
    assert "bootstrap.js" in html and 'data-mode="workbench"' in html
    assert "<script>" not in html and " onclick=" not in html


def test_filter_by_kind_and_unknown_kind_is_ignored(guide_client, book):
    only = guide_client.get("/sidebar/today/?kind=intent", **HTMX).content.decode()
    assert "这一类今天没有待跟进的客户" in only and "<html" not in only
    assert "王女士" in guide_client.get("/sidebar/today/?kind=nonsense").content.decode()


def test_snooze_until_tomorrow_hides_the_item(guide, guide_client, book):
    item = _item("王女士")
    response = guide_client.post(f"/sidebar/today/{item.pk}/snooze", {"until": "tomorrow"}, **HTMX)
    assert response.status_code == 200 and "王女士" not in response.content.decode()
    item.refresh_from_db()
    assert item.state == "snoozed" and item.snoozed_until == timezone.localdate() + dt.timedelta(days=1)


def test_bad_snooze_and_dismiss_answer_400_in_chinese(guide_client, book):
    item = _item("王女士")
    bad = guide_client.post(f"/sidebar/today/{item.pk}/snooze", {"until": "never"}, **HTMX)
    assert bad.status_code == 400 and "请选择推迟到明天或下周" in bad.content.decode()
    no_reason = guide_client.post(f"/sidebar/today/{item.pk}/dismiss", {"reason": ""}, **HTMX)
    assert no_reason.status_code == 400 and "请选择忽略原因" in no_reason.content.decode()
    other = guide_client.post(f"/sidebar/today/{item.pk}/dismiss", {"reason": "other", "note": " "}, **HTMX)
    assert other.status_code == 400 and "请写明原因" in other.content.decode()
    assert _item("王女士").state == "open"


def test_dismiss_with_reason_then_acting_again_is_a_400(guide_client, book):
    item = _item("王女士")
    ok = guide_client.post(f"/sidebar/today/{item.pk}/dismiss", {"reason": "contacted"}, **HTMX)
    assert ok.status_code == 200
    item.refresh_from_db()
    assert (item.state, item.dismiss_reason) == ("dismissed", "contacted")
    again = guide_client.post(f"/sidebar/today/{item.pk}/done", **HTMX)
    assert again.status_code == 400 and "已处理过" in again.content.decode()


def test_done_by_hand_shows_in_the_empty_state(guide_client, book):
    for name in ("王女士", "李先生"):
        guide_client.post(f"/sidebar/today/{_item(name).pk}/done", **HTMX)
    html = guide_client.get("/sidebar/today/").content.decode()
    assert "今天的客户都跟进完了" in html and "今天已完成 2 项" in html and "手动完成" in html


def test_without_htmx_actions_redirect_back(guide_client, book):
    response = guide_client.post(f"/sidebar/today/{_item('王女士').pk}/done")
    assert response.status_code == 302 and response["Location"] == "/sidebar/today/"


def test_another_guides_item_is_a_404(client, book):
    other = StaffFactory()
    client.force_login(other.user)
    assert client.post(f"/sidebar/today/{_item('王女士').pk}/done").status_code == 404
    assert "王女士" not in client.get("/sidebar/today/").content.decode()


def test_tab_in_the_chat_sidebar_swaps_main(guide_client, book):
    ext = book[0].external_userid
    html = guide_client.get(f"/sidebar/today/?ext={ext}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="main").content
    html = html.decode()
    assert "<html" not in html and 'aria-current="page">今日' in html and f"/sidebar/c/{ext}/" in html


def test_banner_shows_reason_material_and_since(guide, guide_client, book):
    from tests.factories import MaterialFactory

    material = MaterialFactory(title="生日祝福", content="生日快乐")
    reminders_refresh(customer_ids=[book[0].customer_id])
    ext = book[0].external_userid
    html = guide_client.get(f"/sidebar/c/{ext}/today/").content.decode()
    assert "今日提醒 · 生日关怀" in html and "今天生日" in html
    assert f'data-send-url="/sidebar/c/{ext}/materials/{material.pk}/prepare"' in html
    portrait = guide_client.get(f"/sidebar/c/{ext}/").content.decode()
    assert f'hx-get="/sidebar/c/{ext}/today/"' in portrait


def test_banner_after_done_and_for_strangers(guide, guide_client, book, client):
    item = _item("王女士")
    guide_client.post(f"/sidebar/today/{item.pk}/done", **HTMX)
    html = guide_client.get(f"/sidebar/c/{book[0].external_userid}/today/").content.decode()
    assert "今日提醒「生日关怀」已完成（手动完成）" in html
    client.force_login(StaffFactory().user)
    assert client.get(f"/sidebar/c/{book[0].external_userid}/today/").status_code == 404


@pytest.mark.parametrize("ext", ["a/b", "x" * 65, "%00", "<script>"])
def test_odd_ext_values_are_ignored_not_500(guide_client, book, ext):
    response = guide_client.get("/sidebar/today/", {"ext": ext}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="main")
    assert response.status_code == 200 and 'class="tabs"' not in response.content.decode()


def test_long_lists_come_in_pages(guide, guide_client):
    today = timezone.localdate()
    customers = [CustomerFactory(name=f"客户{n:02d}", birthday=today.replace(year=1990)) for n in range(25)]
    for c in customers:
        FollowRelationFactory(staff=guide, customer=c)
    reminders_refresh(customer_ids=[c.pk for c in customers])
    first = guide_client.get("/sidebar/today/").content.decode()
    assert first.count('class="card today-item') == 20 and 'id="today-more-20"' in first
    more = guide_client.get("/sidebar/today/?offset=20", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="today-more-20")
    html = more.content.decode()
    assert html.count('class="card today-item') == 5 and "today-more" not in html and "<nav" not in html
    assert guide_client.get("/sidebar/today/?offset=abc").status_code == 200


def test_a_follow_up_is_closed_from_the_portrait_and_its_reminder_is_done(guide_client, guide):
    relation = FollowRelationFactory(staff=guide, customer=CustomerFactory(name="周女士"))
    due = timezone.localdate()
    guide_client.post(f"/sidebar/c/{relation.external_userid}/notes/", {"body": "约了周六试色", "next_contact_on": due})
    note = relation.customer.notes.get()
    reminders_refresh(customer_ids=[relation.customer_id])
    assert ReminderItem.objects.get(customer=relation.customer, kind="follow_up").state in ReminderItem.LIVE_STATES

    portrait = guide_client.get(f"/sidebar/c/{relation.external_userid}/").content.decode()
    assert f'data-close-note="{note.pk}"' in portrait
    url = f"/sidebar/c/{relation.external_userid}/notes/{note.pk}/close/"
    response = guide_client.post(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="notes")
    assert response.status_code == 200 and "已联系" in response.content.decode()
    assert "data-close-note" not in response.content.decode()
    note.refresh_from_db()
    assert note.done
    assert ReminderItem.objects.get(customer=relation.customer, kind="follow_up").state == ReminderItem.State.DONE


def test_another_guides_note_cannot_be_closed(guide_client, guide):
    relation = FollowRelationFactory(staff=guide)
    other = StaffFactory(store=guide.store)
    note = relation.customer.notes.create(staff=other, body="别人的跟进", next_contact_on=timezone.localdate())
    response = guide_client.post(f"/sidebar/c/{relation.external_userid}/notes/{note.pk}/close/")
    assert response.status_code == 404
    note.refresh_from_db()
    assert not note.done


def test_sop_rule_item_shows_with_its_reason_and_material(guide, guide_client):
    customer = CustomerFactory(name="新客小周")
    FollowRelationFactory(staff=guide, customer=customer, added_at=timezone.now() - dt.timedelta(days=1))
    SopRule.objects.create(name="新客跟进", trigger="friend_added", days=[0, 1, 3, 7], material=MaterialFactory())
    reminders_refresh(customer_ids=[customer.pk])
    html = guide_client.get("/sidebar/today/?kind=sop").content.decode()
    assert "新客小周" in html and "自动化任务「新客跟进」：添加好友第 1 天" in html


def test_many_inherited_customers_are_one_row_in_all_and_listed_under_their_chip(guide, guide_client, book):
    for n in range(6):
        relation = FollowRelationFactory(staff=guide, customer=CustomerFactory(name=f"转来{n}"))
        ReminderItem.objects.create(
            kind="handover", customer=relation.customer, staff=guide, occurrence=f"h{n}",
            due_on=timezone.localdate(), trigger_at=timezone.now(), score=1000, context={"from": "马晓琳"},
        )  # fmt: skip

    everything = guide_client.get("/sidebar/today/").content.decode()
    assert "6 位客户刚转接给你" in everything and "转来0" not in everything
    assert everything.index("6 位客户刚转接给你") < everything.index("王女士")  # one row, the birthdays still show
    handovers = guide_client.get("/sidebar/today/?kind=handover").content.decode()
    assert handovers.count('data-kind="handover"') >= 6 and "刚转接给你，打个招呼吧" not in handovers
