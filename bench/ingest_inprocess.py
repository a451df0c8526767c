"""In-process profile of the ingestion API (#12): CPU ms and statements per events batch and per identify.

    .venv/bin/python bench/ingest_inprocess.py [--batches 20] [--batch 1000] [--new 0.1] [--identify 500]
                                               [--cprofile events|identify]

Through Django's test client (no HTTP, no gunicorn) against its own PostgreSQL database
(`ingest_bench_inprocess`, created and migrated on first use): the CPU figure is this process's own, so
it holds on a busy box; PostgreSQL's own CPU is not in it (the SQL wall ms is, waits included).
"""

import argparse
import cProfile
import datetime as dt
import pstats
import statistics
import subprocess
import time
import uuid

from harness import SqlTimer, bench_env, django_setup, manage

parser = argparse.ArgumentParser()
parser.add_argument("--batches", type=int, default=20)
parser.add_argument("--batch", type=int, default=1000)
parser.add_argument("--new", type=float, default=0.1)
parser.add_argument("--identify", type=int, default=500)
parser.add_argument("--cprofile", choices=["events", "identify"], help="print the top functions")
args = parser.parse_args()

env = bench_env(
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/ingest_bench_inprocess",
    API_RATE_LIMIT="10000000/min",
    REDIS_URL="redis://127.0.0.1:6379/7",
)
subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "ingest_bench_inprocess"], capture_output=True)
manage("migrate", "--noinput", "-v", "0", env=env)
django_setup(env)

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from scrm.api.models import ApiScope  # noqa: E402
from scrm.api.services import api_key_create  # noqa: E402

_key, secret = api_key_create(name=f"bench {uuid.uuid4().hex[:6]}", scope=ApiScope.WRITE)
client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Api-Key {secret}")
run = uuid.uuid4().hex[:8]
now = dt.datetime.now(dt.UTC)
people = 0


def person(i: int) -> dict:
    return {"unionid": f"u-{run}-{i}", "mp_openid": f"o-{run}-{i}"}


def batch(n: int, new_share: float) -> dict:
    global people
    fresh = int(args.batch * new_share) if people else args.batch
    who = [(n * 7919 + i * 104729) % people for i in range(args.batch - fresh)] if people else []
    who += list(range(people, people + fresh))
    people += fresh
    events = [
        {
            "id": f"{run}-{n}-{i}",
            "kind": "mp_visit",
            "occurred_at": (now - dt.timedelta(seconds=i)).isoformat(),
            "channel": "mp",
            "identities": person(p),
            "payload": {"page": f"pages/goods/detail?id={i % 37}"},
        }
        for i, p in enumerate(who)
    ]
    return {"source": f"bench{n % 7}", "events": events}


def post_events(body: dict) -> None:
    response = client.post("/api/v1/events", body, content_type="application/json")
    assert response.status_code == 200, response.content[:300]


def post_identify(who: int) -> None:
    response = client.post("/api/v1/customers/identify", {"identities": person(who)}, content_type="application/json")
    assert response.status_code in (200, 201), response.content[:300]


def timed(label: str, send, jobs: list) -> None:
    timer = SqlTimer()
    cpu, wall = [], []
    with connection.execute_wrapper(timer):
        for job in jobs:
            started, clock = time.process_time(), time.perf_counter()
            send(job)
            cpu.append((time.process_time() - started) * 1000)
            wall.append((time.perf_counter() - clock) * 1000)
    n = len(jobs)
    print(
        f"{label:34s} CPU ms mean {statistics.mean(cpu):7.2f} p50 {statistics.median(cpu):7.2f}"
        f"  wall ms {statistics.mean(wall):7.2f}  statements {timer.queries / n:5.1f}"
        f"  SQL wall ms {timer.seconds * 1000 / n:7.2f}",
        flush=True,
    )


post_events(batch(0, 1.0))  # warm: the known population
post_events(batch(1, 1.0))
if args.cprofile == "events":
    profile = cProfile.Profile()
    profile.runcall(lambda: [post_events(batch(n, args.new)) for n in range(2, 2 + args.batches)])
    pstats.Stats(profile).sort_stats("cumulative").print_stats(90)
elif args.cprofile == "identify":
    calls = [(i * 7919) % people if i % 2 else people + 10_000_000 + i for i in range(args.identify)]
    profile = cProfile.Profile()
    profile.runcall(lambda: [post_identify(who) for who in calls])
    pstats.Stats(profile).sort_stats("cumulative").print_stats(90)
else:
    jobs = [batch(n, args.new) for n in range(2, 2 + args.batches)]
    timed(f"events, batch {args.batch}, {args.new:.0%} new", post_events, jobs)
    timed("identify, known", post_identify, [(i * 7919) % people for i in range(args.identify)])
    timed("identify, new", post_identify, [people + 10_000_000 + i for i in range(args.identify)])
