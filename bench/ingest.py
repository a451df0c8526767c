"""Ingestion at brand scale (#12): events/s through POST /api/v1/events and identify/s through
POST /api/v1/customers/identify, beside a plain COPY of the same event rows into a scratch table.

    .venv/bin/python bench/ingest.py [--events 1000000] [--batch 1000] [--new 0.1] [--event-clients 2]
                                     [--identify 20000] [--identify-clients 4] [--known 10000]
                                     [--workers 2] [--threads 1] [--port 8903] [--db ingest_bench]

Uses its own PostgreSQL database (default postgres://postgres@127.0.0.1:5432/ingest_bench; migrated, then
`--known` people are created through the API before timing). Serves the app with gunicorn (2 workers,
DEBUG off). Each event batch holds `--batch` mini-program visits, `--new` of them by people never seen
before (a unionid and a mini-program openid each), the rest by known people. Identify calls are half known,
half new people. The COPY row copies every event row the API stored in this run into a scratch table
shaped like customers_event (same indexes), in one COPY, in the same run. Batches are serialised to JSON
before the clock starts. Beside wall-clock rates it prints the gunicorn workers' own CPU (utime + stime)
per batch and per identify call, which a busy box does not inflate the way it inflates seconds.
Prints figures, never asserts.
"""

import argparse
import datetime as dt
import json
import random
import subprocess
import threading
import time
import uuid

import requests
from harness import bench_env, django_setup, gunicorn, load_average, manage

parser = argparse.ArgumentParser()
parser.add_argument("--events", type=int, default=1_000_000)
parser.add_argument("--batch", type=int, default=1000)
parser.add_argument("--new", type=float, default=0.1)
parser.add_argument("--event-clients", type=int, default=2)
parser.add_argument("--identify", type=int, default=20_000)
parser.add_argument("--identify-clients", type=int, default=4)
parser.add_argument("--known", type=int, default=10_000)
parser.add_argument("--workers", type=int, default=2)
parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread when > 1)")
parser.add_argument("--port", type=int, default=8903)
parser.add_argument("--db", default="ingest_bench")
args = parser.parse_args()

# One brand system posting flat out: the per-key rate limit (API_RATE_LIMIT) is not what is measured.
env = bench_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{args.db}", API_RATE_LIMIT="10000000/min")
subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", args.db], check=False, capture_output=True)
manage("migrate", "--noinput", "-v", "0", env=env)
django_setup(env)

from django.db import connection  # noqa: E402

from scrm.api.models import ApiScope  # noqa: E402
from scrm.api.services import api_key_create  # noqa: E402

_key, secret = api_key_create(name=f"bench {uuid.uuid4().hex[:6]}", scope=ApiScope.WRITE)
run = uuid.uuid4().hex[:8]
now = dt.datetime.now(dt.UTC)
rng = random.Random(20261205)
people = 0  # people 0..people-1 of this run are known


def person(i: int) -> dict:
    return {"unionid": f"u-{run}-{i}", "mp_openid": f"o-{run}-{i}"}


def event(n: int, i: int, who: int) -> dict:
    return {
        "id": f"{run}-{people}-{n}-{i}",  # people: warm-up and timed batches never share an id
        "kind": "mp_visit",
        "occurred_at": (now - dt.timedelta(seconds=i)).isoformat(),
        "channel": "mp",
        "identities": person(who),
        "payload": {"page": f"pages/goods/detail?id={i % 37}"},
    }


def batches(count: int, new_share: float):
    """`count` batches; each names `new_share` of its events by new people, the rest by known ones."""
    global people
    out = []
    for n in range(count):
        fresh = int(args.batch * new_share)
        known = [event(n, i, rng.randrange(people)) for i in range(args.batch - fresh)] if people else []
        new = [event(n, len(known) + i, people + i) for i in range(args.batch - len(known))]
        people += args.batch - len(known)
        out.append(json.dumps({"source": f"bench{n % 7}", "events": known + new}).encode())
    return out


def in_parallel(clients: int, jobs: list, send) -> float:
    """Run send(session, job) for every job across `clients` threads; the wall-clock seconds taken."""
    queue = list(reversed(jobs))
    lock = threading.Lock()
    failures = []

    def worker():
        session = requests.Session()
        session.headers["Authorization"] = f"Api-Key {secret}"
        while True:
            with lock:
                if not queue:
                    return
                job = queue.pop()
            response = send(session, job)
            if response.status_code not in (200, 201):
                failures.append(f"{response.status_code}: {response.text[:300]}")
                return

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(failures[0])
    return time.perf_counter() - started


def copy_baseline(first_id: int) -> tuple[int, float]:
    """COPY this run's stored event rows into a scratch table shaped like customers_event: (rows, seconds)."""
    columns = "customer_id, kind, occurred_at, channel, staff_id, title, payload, schema, dedupe_key, created_at"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_scratch")
        cursor.execute("CREATE TABLE bench_copy_scratch (LIKE customers_event INCLUDING ALL)")
        cursor.execute(f"SELECT {columns} FROM customers_event WHERE id > %s", [first_id])
        rows = cursor.fetchall()
        raw = cursor.cursor  # psycopg 3
        started = time.perf_counter()
        with raw.copy(f"COPY bench_copy_scratch ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy_scratch")
    return len(rows), seconds


def post_events(session, body: bytes):
    return session.post(f"{base}/api/v1/events", data=body, headers={"Content-Type": "application/json"}, timeout=300)


def bare(session, _job):
    return session.get(f"{base}/bench/bare/", timeout=60)


def identify(session, who):
    return session.post(f"{base}/api/v1/customers/identify", json={"identities": person(who)}, timeout=60)


def worker_cpu() -> float:
    return sum(base.worker_cpu_seconds().values())


with gunicorn(env, port=args.port, workers=args.workers, threads=args.threads) as base:
    # Warm-up, not timed: the known population, created through the API.
    in_parallel(args.event_clients, batches(max(1, args.known // args.batch), 1.0), post_events)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM customers_event")
        first_id = cursor.fetchone()[0]
    load_before = load_average()
    count = max(1, args.events // args.batch)
    bodies = batches(count, args.new)
    cpu_before = worker_cpu()
    event_seconds = in_parallel(args.event_clients, bodies, post_events)
    event_cpu = worker_cpu() - cpu_before
    del bodies
    stored = count * args.batch
    print(f"events: {stored} in {event_seconds:.1f} s = {stored / event_seconds:.0f}/s", flush=True)
    load_middle = load_average()
    calls = [rng.randrange(people) if i % 2 else people + i for i in range(args.identify)]
    cpu_before = worker_cpu()
    identify_seconds = in_parallel(args.identify_clients, calls, identify)
    identify_cpu = worker_cpu() - cpu_before
    # The floor of this run: a bare Django view (no middleware) from as many clients.
    floor_calls = max(500, args.identify // 4)
    floor_seconds = in_parallel(args.identify_clients, list(range(floor_calls)), bare)
    load_after = load_average()

copied, copy_seconds = copy_baseline(first_id)
print(f"load average (1/5/15 min): {load_before} → {load_middle} → {load_after}")
print(f"gunicorn: {args.workers} workers × {args.threads} threads")
rows = [
    (f"events, batches of {args.batch}, {args.new:.0%} new people", stored, event_seconds),
    (f"identify, {args.identify_clients} clients, half new", args.identify, identify_seconds),
    (f"bare Django view, {args.identify_clients} clients (floor)", floor_calls, floor_seconds),
    ("COPY of the same event rows (scratch table)", copied, copy_seconds),
]
print(f"{'what':<46}{'items':>10}{'seconds':>10}{'per second':>12}")
for what, items, seconds in rows:
    print(f"{what:<46}{items:>10}{seconds:>10.1f}{items / seconds:>12.0f}")
print(f"events/s ÷ COPY rows/s: {(stored / event_seconds) / (copied / copy_seconds):.3f}")
print(f"identify/s ÷ bare view/s: {(args.identify / identify_seconds) / (floor_calls / floor_seconds):.3f}")
print(f"worker CPU per batch of {args.batch}: {event_cpu * 1000 / count:.0f} ms")
print(f"worker CPU per identify call: {identify_cpu * 1000 / args.identify:.2f} ms")
