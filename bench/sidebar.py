"""Sidebar benchmark: portrait and a deep timeline page at 100,000 customers / 5,000,000 events.

    .venv/bin/python bench/sidebar.py [--customers 100000] [--events 5000000] [--rounds 400] [--port 8899]

Seeds PostgreSQL once (reused on later runs), serves the app with gunicorn (2 workers, DEBUG off)
and times, through HTTP, the portrait of many customers, a timeline page deep in the scroll, the
timeline of customers with 50,000 events (first and deep page, beside a 50-event customer), the
推荐 material tab, and two floors in the same run: a bare Django view and the sidebar ping. Prints
p50/p95, worker CPU ms per request and the load average.
Targets (#17): portrait, timeline and 推荐 ≤ 7 ms worker CPU per request; a 50,000-event timeline
within 1 ms of a 50-event one.
"""

import argparse
import datetime as dt

import requests
from harness import bench_env, django_setup, floors, gunicorn, load_average, manage, measure, report, seed_demo

parser = argparse.ArgumentParser()
parser.add_argument("--customers", type=int, default=100_000)
parser.add_argument("--events", type=int, default=5_000_000)
parser.add_argument("--rounds", type=int, default=400)
parser.add_argument("--identity", action="store_true", help="ask for uncompressed answers (A/B of gzip)")
parser.add_argument("--port", type=int, default=8899, help="where gunicorn listens (one port per concurrent bench)")
parser.add_argument("--long-history", type=int, default=50_000, help="events of the long-history customers")
args = parser.parse_args()

env = bench_env()
manage("migrate", "--noinput", "-v", "0", env=env)
django_setup(env)

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.cached_db import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from scrm.customers.events import Channel, EventKind  # noqa: E402
from scrm.customers.models import Customer, Event, FollowRelation  # noqa: E402
from scrm.customers.selectors import Cursor, timeline_page  # noqa: E402

if Customer.objects.count() < args.customers or Event.objects.count() < args.events:
    seed_demo(customers=args.customers, events=args.events, env=env)
print(f"data: {Customer.objects.count():,} customers, {Event.objects.count():,} events")

# The guide with the most customers, and those customers' external_userids.
busiest = (
    FollowRelation.objects.filter(ended_at__isnull=True, staff__role="guide", staff__is_active=True)
    .values("staff")
    .annotate(n=Count("id"))
    .order_by("-n")
    .first()
)
relations = list(
    FollowRelation.objects.filter(staff_id=busiest["staff"], ended_at__isnull=True).select_related("staff__user")[:200]
)
guide = relations[0].staff

# A deep timeline page: the customer with the most events among these, 5 pages into the scroll.
customer_events = (
    Event.objects.filter(customer_id__in=[r.customer_id for r in relations])
    .values("customer_id")
    .annotate(n=Count("id"))
    .order_by("-n")
    .first()
)
deep = next(r for r in relations if r.customer_id == customer_events["customer_id"])
page = timeline_page(customer=deep.customer)
for _ in range(4):
    if page.next_cursor is None:
        break
    page = timeline_page(customer=deep.customer, after=page.next_cursor)
cursor_param = page.next_cursor.encode() if page.next_cursor else ""
print(
    f"guide {guide.userid}: {len(relations)} customers; deep timeline of a customer with {customer_events['n']} events"
)


def long_history(customer_id: int, n: int) -> None:
    """Years of chat: n events for one customer (bench-only dedupe keys, so re-runs top up, not repeat)."""
    prefix = f"bench:long:{customer_id}:"
    have = Event.objects.filter(customer_id=customer_id, dedupe_key__startswith=prefix).count()
    start = timezone.now() - dt.timedelta(days=4 * 365)
    step = dt.timedelta(days=4 * 365) / n
    for first in range(have, n, 5_000):
        Event.objects.bulk_create(
            Event(
                customer_id=customer_id,
                kind=EventKind.MP_PRODUCT_VIEW,
                channel=Channel.MP,
                occurred_at=start + step * i,
                title="浏览了 精华液 30ml",
                dedupe_key=f"{prefix}{i}",
            )
            for i in range(first, min(first + 5_000, n))
        )
    if have < n:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE customers_event")


def middle_cursor(customer_id: int) -> str:
    """A cursor half-way down a customer's history: a page deep in the scroll."""
    events = Event.objects.filter(customer_id=customer_id).order_by("-occurred_at", "-id")
    middle = events.values("occurred_at", "id")[events.count() // 2]
    return Cursor(occurred_at=middle["occurred_at"], id=middle["id"]).encode()


# Two of the guide's customers get 50,000 events each; a customer with about 50 is the comparison.
counts = dict(
    Event.objects.filter(customer_id__in=[r.customer_id for r in relations])
    .values_list("customer_id")
    .annotate(n=Count("id"))
)
by_size = sorted(relations, key=lambda r: abs(counts.get(r.customer_id, 0) - 50))
typical = by_size[0]
# The same two on every run (the newest customers), so re-runs top up rather than add more.
long_ones = sorted((r for r in relations if r.customer_id != typical.customer_id), key=lambda r: r.customer_id)[-2:]
for relation in long_ones:
    long_history(relation.customer_id, args.long_history)
print(f"long histories: 2 customers × {args.long_history:,} events; typical customer: {counts[typical.customer_id]}")

# Signed-in session for the guide, stored where the server will look for it.
store = SessionStore()
store[SESSION_KEY] = str(guide.user.pk)
store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
store[HASH_SESSION_KEY] = guide.user.get_session_auth_hash()
store.create()

print(f"load average before: {load_average()}")
with gunicorn(env, port=args.port) as base:
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, store.session_key)
    if args.identity:
        session.headers["Accept-Encoding"] = "identity"
    to_main = {"HX-Request": "true", "HX-Target": "main"}  # what a tap on a sidebar tab requests

    def timeline(relation, cursor=""):
        return f"{base}/sidebar/c/{relation.external_userid}/timeline/" + (f"?after={cursor}" if cursor else "")

    rows = {
        **floors(session, base, rounds=args.rounds),
        "portrait": measure(session, [f"{base}/sidebar/c/{r.external_userid}/" for r in relations], rounds=args.rounds),
        "timeline page (deep)": measure(session, [timeline(deep, cursor_param)], rounds=args.rounds),
        "timeline first page": measure(session, [timeline(r) for r in relations], rounds=args.rounds),
        "timeline 50 ev, first": measure(session, [timeline(typical)], rounds=args.rounds),
        "timeline 50 ev, middle": measure(
            session, [timeline(typical, middle_cursor(typical.customer_id))], rounds=args.rounds
        ),
        "timeline 50k ev, first": measure(session, [timeline(r) for r in long_ones], rounds=args.rounds),
        "timeline 50k ev, middle": measure(
            session, [timeline(r, middle_cursor(r.customer_id)) for r in long_ones], rounds=args.rounds
        ),
        "推荐 tab (htmx, #main)": measure(
            session,
            [f"{base}/sidebar/c/{r.external_userid}/materials/" for r in relations],
            rounds=args.rounds,
            headers=to_main,
        ),
    }
report(rows, baseline="ping (sidebar)")
print("target ≤ 7 ms worker CPU per request:")
for name in ("portrait", "timeline first page", "timeline page (deep)", "推荐 tab (htmx, #main)"):
    cpu = rows[name]["cpu"]
    print(f"  {name}: {'-' if cpu is None else f'{cpu:.2f}'} ms {'yes' if cpu is not None and cpu <= 7 else 'NO'}")
