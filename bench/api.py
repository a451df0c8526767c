"""Event ingestion benchmark: batches of 500 events pushed by a brand system through POST /api/v1/events.

    .venv/bin/python bench/api.py [--batches 10] [--size 500] [--per-customer 10]

Uses its own PostgreSQL database (default postgres://postgres@127.0.0.1:5432/api_bench; migrated, never
seeded). Serves the app with gunicorn and posts batches of mini-program browsing events, each customer
known by a unionid and a mini-program openid and appearing `--per-customer` times in a batch (a session
of page views), half of them already known from the previous batch. Then posts the same batches again
(every item a duplicate, as a client retrying after a timeout would). Prints p50/p95 per batch and per
event, with /healthz as the baseline. No target is set by the issues; compare runs.
"""

import argparse
import datetime as dt
import statistics
import time
import uuid

import requests
from harness import bench_env, django_setup, gunicorn, manage, report

parser = argparse.ArgumentParser()
parser.add_argument("--batches", type=int, default=10)
parser.add_argument("--size", type=int, default=500)
parser.add_argument("--per-customer", type=int, default=10)
args = parser.parse_args()

env = bench_env(DATABASE_URL="postgres://postgres@127.0.0.1:5432/api_bench")
manage("migrate", "--noinput", "-v", "0", env=env)
django_setup(env)

from scrm.api.models import ApiScope  # noqa: E402
from scrm.api.services import api_key_create  # noqa: E402

_key, secret = api_key_create(name=f"bench {uuid.uuid4().hex[:6]}", scope=ApiScope.WRITE)
run = uuid.uuid4().hex[:8]
now = dt.datetime.now(dt.UTC)


def batch(n: int) -> dict:
    events = []
    customers = args.size // args.per_customer
    for i in range(args.size):
        # Half of each batch's customers were in the previous batch too.
        who = n * customers // 2 + i % customers
        events.append(
            {
                "id": f"{run}-{n}-{i}",
                "kind": "mp_visit",
                "occurred_at": (now - dt.timedelta(seconds=args.size - i)).isoformat(),
                "channel": "mp",
                "identities": {"unionid": f"u-{run}-{who}", "mp_openid": f"o-{run}-{who}"},
                "payload": {"page": f"pages/goods/detail?id={i % 37}"},
            }
        )
    return {"source": "bench", "events": events}


def post_all(session: requests.Session, url: str, bodies: list[dict]) -> dict[str, float]:
    timings = []
    for body in bodies:
        started = time.perf_counter()
        response = session.post(url, json=body, timeout=120)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
    timings.sort()
    return {"p50": statistics.median(timings), "p95": timings[max(0, int(len(timings) * 0.95) - 1)], "n": len(timings)}


bodies = [batch(n) for n in range(args.batches)]
with gunicorn(env, port=8895) as base:
    session = requests.Session()
    session.headers["Authorization"] = f"Api-Key {secret}"
    baseline = []
    for _ in range(100):
        started = time.perf_counter()
        session.get(f"{base}/healthz")
        baseline.append((time.perf_counter() - started) * 1000)
    baseline.sort()
    rows = {
        "baseline (healthz)": {"p50": statistics.median(baseline), "p95": baseline[94], "n": 100},
        f"batch of {args.size} (new)": post_all(session, f"{base}/api/v1/events", bodies),
        f"batch of {args.size} (repeat)": post_all(session, f"{base}/api/v1/events", bodies),
    }
report(rows, baseline="baseline (healthz)")
for name in list(rows)[1:]:
    print(f"{name}: {rows[name]['p50'] / args.size:.2f} ms per event at p50")
