"""Segment counting benchmark: the issue's example segments counted at 100,000 customers / 5,000,000 events.

    .venv/bin/python bench/segments.py [--customers 100000] [--events 5000000] [--rounds 20]

Seeds its own PostgreSQL database once (default postgres://postgres@127.0.0.1:5432/segments_bench, reused on
later runs) with seed_demo, then times `segment_count` (the saved segment's live count, one COUNT query)
in this process for each example spec, brand-wide and for one store. Target (#15): p95 ≤ 300 ms.
"""

import argparse
import statistics
import subprocess
import time

from harness import bench_env, django_setup, manage, seed_demo

parser = argparse.ArgumentParser()
parser.add_argument("--customers", type=int, default=100_000)
parser.add_argument("--events", type=int, default=5_000_000)
parser.add_argument("--rounds", type=int, default=20)
args = parser.parse_args()

env = bench_env(DATABASE_URL="postgres://postgres@127.0.0.1:5432/segments_bench")
# First use: the database (an existing one is kept, with its data).
subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "segments_bench"], check=False, capture_output=True)
manage("migrate", "--noinput", "-v", "0", env=env)
django_setup(env)

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from scrm.customers.models import Customer, CustomerTag, Event  # noqa: E402
from scrm.org.models import Store  # noqa: E402
from scrm.segments.models import Segment  # noqa: E402
from scrm.segments.selectors import segment_count  # noqa: E402

# seed_demo lands within a few per cent of the asked number of events.
if Customer.objects.count() < args.customers or Event.objects.count() < args.events * 0.95:
    seed_demo(customers=args.customers, events=args.events, env=env)
with connection.cursor() as cursor:
    # What autovacuum does on a live database: statistics, and the visibility map index-only scans need.
    cursor.execute("VACUUM ANALYZE")
print(f"data: {Customer.objects.count():,} customers, {Event.objects.count():,} events")

top_tags = [row["tag_id"] for row in CustomerTag.objects.values("tag_id").annotate(n=Count("id")).order_by("-n")[:2]]
store = Store.objects.annotate(n=Count("customers")).order_by("-n").first()
SPECS = {
    "cart 48h, no order since": {"events": [{"kind": "add_to_cart", "hours": 48, "no_order_since": True}]},
    "follow_oa in 7 days": {"events": [{"kind": "follow_oa", "hours": 168}]},
    "order_paid in 30 days": {"events": [{"kind": "order_paid", "hours": 720}]},
    "tmall, no wecom friend": {"channels_has": ["tmall"], "channels_lacks": ["wecom_friend"]},
    "repeat+loyal, spend ≥ 500": {"stages": ["repeat", "loyal"], "spend_min": "500"},
    "tags all (top 2)": {"tags_all": top_tags},
    "overdue, birthday month 3": {"overdue_repurchase": True, "birthday_month": 3},
}


def timed(segment: Segment) -> tuple[dict[str, float], int]:
    count = segment_count(segment=segment)  # warm-up
    timings = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        segment_count(segment=segment)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return {"p50": statistics.median(timings), "p95": timings[max(int(len(timings) * 0.95) - 1, 0)]}, count


print(f"{'segment':<34}{'scope':>8}{'count':>9}{'p50 ms':>10}{'p95 ms':>10}")
worst = 0.0
for name, spec in SPECS.items():
    for scope, store_id in (("brand", None), ("store", store.pk)):
        segment = Segment(name=name, spec=spec, store_id=store_id)  # unsaved: counting needs no row
        row, count = timed(segment)
        worst = max(worst, row["p95"])
        print(f"{name:<34}{scope:>8}{count:>9}{row['p50']:>10.1f}{row['p95']:>10.1f}")
print(f"worst p95 {worst:.1f} ms (target ≤ 300 ms): {'met' if worst <= 300 else 'NOT met'}")
