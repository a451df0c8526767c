import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from scrm.customers.events import Channel, EventKind
from scrm.customers.models import Event, Note
from tests.factories import CustomerFactory, EventFactory, StaffFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def timeline_url(ext: str) -> str:
    return reverse("sidebar:timeline", args=[ext])


def shown_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="ev [^"]*" data-id="(\d+)"', html)]


def next_url(html: str) -> str | None:
    match = re.search(r'class="sentinel" hx-get="([^"]+)" hx-trigger="revealed" hx-swap="outerHTML"', html)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.fixture
def many_events(followed_customer, guide):
    """45 events, many sharing one timestamp, so paging must break ties on id."""
    base = timezone.now() - dt.timedelta(hours=2)
    events = []
    for i in range(45):
        when = base if i % 3 else base - dt.timedelta(minutes=i)
        kind, channel = (EventKind.ORDER_PAID, Channel.TMALL) if i % 5 == 0 else (EventKind.CHAT_MESSAGE, Channel.WECOM)
        events.append(
            EventFactory(customer=followed_customer, occurred_at=when, kind=kind, channel=channel, staff=guide)
        )
    return events


def expected_order(events):
    return [e.pk for e in sorted(events, key=lambda e: (e.occurred_at, e.pk), reverse=True)]


def test_timeline_shows_newest_first_with_icon_title_channel_guide_and_time(
    guide_client, followed_customer, ext, guide
):
    now = timezone.now()
    EventFactory(customer=followed_customer, occurred_at=now - dt.timedelta(days=400), title="很久以前")
    EventFactory(
        customer=followed_customer,
        occurred_at=now,
        kind=EventKind.ORDER_PAID,
        channel=Channel.TMALL,
        staff=guide,
        title="下单 修护精华液",
    )
    html = guide_client.get(timeline_url(ext)).content.decode()
    assert html.index("下单 修护精华液") < html.index("很久以前")
    # Icons are inline SVG (colour emoji show as empty boxes without an emoji font).
    assert '<svg class="svg-icon"' in html and "💰" not in html
    assert "天猫" in html and guide.name in html and "刚刚" in html
    assert "年" in html  # the year-old event carries its year


def test_events_of_other_customers_never_show(guide_client, followed_customer, ext):
    EventFactory(customer=CustomerFactory(), title="别人的轨迹")
    assert "别人的轨迹" not in guide_client.get(timeline_url(ext)).content.decode()


def test_pages_follow_each_other_without_gaps_or_duplicates(guide_client, ext, many_events):
    first = guide_client.get(timeline_url(ext)).content.decode()
    seen = shown_ids(first)
    assert len(seen) == 20
    url = next_url(first)
    pages = 1
    while url:
        html = guide_client.get(url, headers=HTMX).content.decode()
        assert "<html" not in html  # only rows for the revealed sentinel
        seen += shown_ids(html)
        url = next_url(html)
        pages += 1
    assert pages == 3
    assert seen == expected_order(many_events)


def test_without_js_the_more_link_opens_the_next_page(guide_client, ext, many_events):
    first = guide_client.get(timeline_url(ext)).content.decode()
    more = re.search(r'<a href="([^"]+)"[^>]*>更多</a>', first).group(1).replace("&amp;", "&")
    html = guide_client.get(more).content.decode()
    assert "<html" in html
    assert shown_ids(html) == expected_order(many_events)[20:40]


def test_filter_chip_shows_only_that_group_and_pages_within_it(guide_client, ext, many_events):
    orders = [e for e in many_events if e.kind == EventKind.ORDER_PAID]
    response = guide_client.get(timeline_url(ext) + "?group=order", headers={**HTMX, "HX-Target": "feed"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="feed">')
    assert shown_ids(html) == expected_order(orders)
    assert next_url(html) is None
    assert 'class="chip on" href="/sidebar/c/' in html and "?group=order" in html


def test_unknown_filter_or_broken_cursor_falls_back_to_the_first_page(guide_client, ext, many_events):
    html = guide_client.get(timeline_url(ext) + "?group=nope&after=garbage").content.decode()
    assert shown_ids(html) == expected_order(many_events)[:20]


def test_timeline_query_count_is_constant(guide_client, followed_customer, ext, guide):
    counts = []
    for n in (3, 60):
        for i in range(n):
            EventFactory(customer=followed_customer, staff=StaffFactory(store=guide.store) if i % 2 else guide)
        with CaptureQueriesContext(connection) as queries:
            response = guide_client.get(timeline_url(ext))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6, counts


# --- notes -------------------------------------------------------------------------------------


def test_htmx_note_is_saved_and_appears_on_top(guide_client, followed_customer, ext, guide):
    next_week = timezone.localdate() + dt.timedelta(days=7)
    response = guide_client.post(
        reverse("sidebar:note_add", args=[ext]),
        {"body": "客户想要敏感肌套装\n下周再联系", "next_contact_on": next_week.isoformat(), "request_id": "r1"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    note = Note.objects.get()
    assert (note.customer, note.staff, note.next_contact_on) == (followed_customer, guide, next_week)
    event = Event.objects.get(kind=EventKind.NOTE)
    assert event.title == "客户想要敏感肌套装" and event.staff == guide
    assert 'hx-swap-oob="afterbegin:#events"' in html
    assert f'data-id="{event.pk}"' in html
    assert 'id="note-form"' in html and "客户想要敏感肌套装</textarea>" not in html  # a fresh form
    # Every line of the note, and when to call back, show on the timeline (not only the first line).
    assert "客户想要敏感肌套装<br>下周再联系" in html
    assert f"下次联系：{next_week.isoformat()}" in html


def test_double_submitted_note_is_recorded_once(guide_client, ext):
    url = reverse("sidebar:note_add", args=[ext])
    for _ in range(2):
        guide_client.post(url, {"body": "到店试色", "request_id": "same-tap"}, headers=HTMX)
    assert Note.objects.count() == 1
    assert Event.objects.filter(kind=EventKind.NOTE).count() == 1


def test_note_while_another_filter_is_on_is_saved_but_not_inserted(guide_client, ext):
    html = guide_client.post(
        reverse("sidebar:note_add", args=[ext]), {"body": "到店", "group": "order"}, headers=HTMX
    ).content.decode()
    assert Note.objects.count() == 1
    assert "hx-swap-oob" not in html


@pytest.mark.parametrize("body", ["", "   \n  "])
def test_empty_note_is_a_400_with_a_chinese_form_error(guide_client, ext, body):
    response = guide_client.post(reverse("sidebar:note_add", args=[ext]), {"body": body}, headers=HTMX)
    assert response.status_code == 400
    assert "请填写跟进内容" in response.content.decode()
    assert not Note.objects.exists() and not Event.objects.exists()


def test_bad_date_without_js_re_renders_the_page_with_the_error(guide_client, ext):
    response = guide_client.post(reverse("sidebar:note_add", args=[ext]), {"body": "好", "next_contact_on": "明天"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" in html and "请输入正确的日期" in html
    assert not Note.objects.exists()


@pytest.mark.parametrize(
    "day, message",
    [
        (dt.date(1900, 1, 1), "下次联系日期不能早于一年前"),
        ("past", "下次联系日期不能早于一年前"),
        ("far", "下次联系日期不能晚于两年后"),
    ],
)
def test_a_next_contact_date_far_away_is_refused_with_a_chinese_error(guide_client, ext, day, message):
    today = timezone.localdate()
    day = {"past": today - dt.timedelta(days=366), "far": today + dt.timedelta(days=731)}.get(day, day)
    response = guide_client.post(
        reverse("sidebar:note_add", args=[ext]), {"body": "回访", "next_contact_on": day.isoformat()}, headers=HTMX
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Note.objects.exists()


@pytest.mark.parametrize("days", [-365, 0, 730])
def test_next_contact_dates_within_the_window_are_kept(guide_client, ext, days):
    day = timezone.localdate() + dt.timedelta(days=days)
    guide_client.post(reverse("sidebar:note_add", args=[ext]), {"body": "回访", "next_contact_on": day.isoformat()})
    assert Note.objects.get().next_contact_on == day


def test_the_date_picker_offers_only_accepted_dates(guide_client, ext):
    today = timezone.localdate()
    html = guide_client.get(timeline_url(ext)).content.decode()
    field = re.search(r'<input type="date" name="next_contact_on"[^>]*>', html).group(0)
    assert f'min="{(today - dt.timedelta(days=365)).isoformat()}"' in field
    assert f'max="{(today + dt.timedelta(days=730)).isoformat()}"' in field


def test_note_without_js_redirects_to_the_timeline(guide_client, ext):
    response = guide_client.post(reverse("sidebar:note_add", args=[ext]), {"body": "电话回访"})
    assert response.status_code == 302
    assert "电话回访" in guide_client.get(response["Location"]).content.decode()


def test_only_a_follow_up_date_that_has_passed_is_marked_overdue(guide_client, followed_customer, ext):
    today = timezone.localdate()
    for days, body in ((-3, "过期的约定"), (5, "将来的约定")):
        EventFactory(
            customer=followed_customer, kind=EventKind.NOTE, title=body,
            payload={"body": body, "next_contact_on": (today + dt.timedelta(days=days)).isoformat()},
        )  # fmt: skip
    html = guide_client.get(timeline_url(ext)).content.decode()
    marked = re.findall(r'class="meta next-contact( overdue)?"', html)
    assert sorted(marked) == ["", " overdue"]
