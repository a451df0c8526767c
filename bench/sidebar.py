"""Sidebar benchmark: portrait and a deep timeline page at 100,000 customers / 5,000,000 events.

    .venv/bin/python bench/sidebar.py [--customers 100000] [--events 5000000] [--rounds 400]

Seeds PostgreSQL once (reused on later runs), serves the app with gunicorn (2 workers, DEBUG off)
and times, through HTTP, the portrait of many customers, a timeline page deep in the scroll and a
trivial page behind the same middleware (sidebar ping). Prints p50/p95 and the ratio to the baseline.
Targets on 2 cores: portrait p95 ≤ 30 ms and ≤ 15× baseline; timeline page p95 ≤ 20 ms.
"""

import argparse
import time

import requests
from harness import bench_env, django_setup, gunicorn, manage, measure, report

parser = argparse.ArgumentParser()
parser.add_argument("--customers", type=int, default=100_000)
parser.add_argument("--events", type=int, default=5_000_000)
parser.add_argument("--rounds", type=int, default=400)
args = parser.parse_args()

env = bench_env()
manage("migrate", "--noinput", "-v", "0", env=env)
django_setup(env)

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.cached_db import SessionStore  # noqa: E402
from django.db.models import Count  # noqa: E402

from scrm.customers.models import Customer, Event, FollowRelation  # noqa: E402
from scrm.customers.selectors import timeline_page  # noqa: E402

if Customer.objects.count() < args.customers or Event.objects.count() < args.events:
    started = time.monotonic()
    # No console rollups: this benchmark times the sidebar only.
    manage("seed_demo", "--customers", str(args.customers), "--events", str(args.events), "--rollup-days", "0", env=env)
    print(f"seeded in {time.monotonic() - started:.0f} s")
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

# Signed-in session for the guide, stored where the server will look for it.
store = SessionStore()
store[SESSION_KEY] = str(guide.user.pk)
store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
store[HASH_SESSION_KEY] = guide.user.get_session_auth_hash()
store.create()

with gunicorn(env) as base:
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, store.session_key)
    rows = {
        "baseline (sidebar ping)": measure(session, [f"{base}/sidebar/ping/"], rounds=args.rounds),
        "portrait": measure(session, [f"{base}/sidebar/c/{r.external_userid}/" for r in relations], rounds=args.rounds),
        "timeline page (deep)": measure(
            session, [f"{base}/sidebar/c/{deep.external_userid}/timeline/?after={cursor_param}"], rounds=args.rounds
        ),
        "timeline first page": measure(
            session, [f"{base}/sidebar/c/{r.external_userid}/timeline/" for r in relations], rounds=args.rounds
        ),
    }
report(rows, baseline="baseline (sidebar ping)")
portrait, timeline, base = rows["portrait"]["p95"], rows["timeline page (deep)"]["p95"], rows["baseline (sidebar ping)"]
print(
    f"targets: portrait p95 {portrait:.1f} ms ≤ 30 ms: {'yes' if portrait <= 30 else 'NO'}; "
    f"≤ 15× baseline: {'yes' if portrait <= 15 * base['p95'] else 'NO'}; "
    f"timeline p95 {timeline:.1f} ms ≤ 20 ms: {'yes' if timeline <= 20 else 'NO'}"
)
