"""Links inside the sidebar never navigate the iframe away from the shell /sidebar/.

The shell is the only page that loads WeCom's JS-SDK: once a plain link replaced it, every material
send failed with 「请在企业微信的聊天侧边栏中发送」. Every link of every screen must load in place
with htmx (the href stays for no-JS).
"""

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import EventFactory, MaterialFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open = dict(attrs) | {"text": ""}
            self.links.append(self._open)

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data.strip()

    def handle_endtag(self, tag):
        if tag == "a":
            self._open = None


def links(html: str) -> list[dict]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def link(html: str, text: str) -> dict:
    found = [a for a in links(html) if a["text"] == text]
    assert found, f"no link 「{text}」"
    return found[0]


@pytest.fixture
def long_timeline(followed_customer, guide):
    now = timezone.now()
    for i in range(30):
        EventFactory(customer=followed_customer, occurred_at=now - dt.timedelta(minutes=i), staff=guide)


@pytest.fixture
def many_materials(db):
    for i in range(25):
        MaterialFactory(title=f"话术{i}", content=f"第{i}条")


def _screens(client, ext):
    """Every screen the sidebar can show, as the shell loads it into #main, plus follow-up fragments."""
    timeline = reverse("sidebar:timeline", args=[ext])
    first = client.get(timeline, headers=HTMX | {"HX-Target": "main"}).content.decode()
    after = link(first, "更多")["href"].replace("&amp;", "&")
    yield "portrait", client.get(reverse("sidebar:portrait", args=[ext]), headers=HTMX).content.decode()
    yield "timeline", first
    yield "timeline page 2", client.get(after).content.decode()
    yield "materials", client.get(reverse("sidebar:materials", args=[ext]), headers=HTMX).content.decode()


def test_every_link_in_the_sidebar_loads_in_place(guide_client, ext, long_timeline, many_materials):
    checked = 0
    for screen, html in _screens(guide_client, ext):
        for a in links(html):
            assert a.get("hx-get") == a["href"], f"{screen}: 「{a['text']}」 would leave the shell"
            assert a.get("hx-target"), f"{screen}: 「{a['text']}」 has no hx-target"
            checked += 1
    assert checked > 10


def test_write_a_note_link_swaps_the_timeline_with_the_note_form_into_main(guide_client, ext):
    portrait = guide_client.get(reverse("sidebar:portrait", args=[ext]), headers=HTMX).content.decode()
    write = link(portrait, "写跟进")

    assert write["hx-target"] == "#main"
    screen = guide_client.get(write["hx-get"], headers=HTMX | {"HX-Target": "main"}).content.decode()
    assert "<html" not in screen  # a fragment for #main, not a page of its own
    assert 'id="note-form"' in screen
    assert 'class="chip on"' in screen and "?group=note" in screen


def test_back_to_latest_reloads_the_feed_in_place(guide_client, ext, long_timeline):
    first = guide_client.get(reverse("sidebar:timeline", args=[ext]) + "?group=browse").content.decode()
    page_two = guide_client.get(link(first, "更多")["href"].replace("&amp;", "&")).content.decode()
    latest = link(page_two, "回到最新")

    assert latest["hx-target"] == "#feed" and latest["hx-swap"] == "outerHTML"
    assert latest["hx-get"].endswith("?group=browse")  # the filter stays on
    feed = guide_client.get(latest["hx-get"], headers=HTMX | {"HX-Target": "feed"}).content.decode()
    assert feed.lstrip().startswith('<section id="feed">')
    assert "回到最新" not in feed


def test_clicking_more_instead_of_scrolling_appends_the_next_cards(guide_client, ext, many_materials):
    page = guide_client.get(reverse("sidebar:materials", args=[ext]), headers=HTMX).content.decode()
    more = link(page, "更多")

    assert more["hx-target"] == "closest li"
    # htmx names the sentinel li (its target) in HX-Target.
    sentinel = page.split('class="sentinel" id="', 1)[1].split('"', 1)[0]
    cards = guide_client.get(more["hx-get"], headers=HTMX | {"HX-Target": sentinel}).content.decode()
    assert "<html" not in cards and 'class="mat mat-' in cards
