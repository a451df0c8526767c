"""Callback bench (#13): N WeCom callbacks at a steady rate, time from receipt to processed, all accounted for.

    .venv/bin/python bench/load/callbacks.py [--rate 100] [--count 3000] [--pool threads] [--concurrency 16]
                                             [--fast-workers 1] [--latency 0.05-0.15]

Its own PostgreSQL database (load_bench_callbacks, created and migrated on first use) and Redis db 13
(only the fast and slow queues there are purged). The product runs as production does: gunicorn
(gthread 2 × 8, DEBUG off) on port 8905, the `fast` queue (callback processing) on `--fast-workers`
Celery workers with `--pool`/`--concurrency`, the `slow` queue on one prefork process, and beat (the
minute sweeps retry a callback whose WeCom call failed). WeCom is the
simulator in a gunicorn of its own (port 8906, 32 threads), answering every call after a uniform
`--latency` draw (the simulator's fault switch), as the real one is off the box.

The driver plays WeCom: 20 guides, each callback an `add_external_contact` for a new customer (its
processing calls `externalcontact/get`, then stores the customer, relation and timeline), signed and
encrypted, POSTed at `--rate`. WeCom's side of every add is written before the run. Measured per
callback: CallbackInbox.processed_at − received_at (both server clocks); beside it the callback's answer
time as WeCom sees it and /healthz timed during the run (the ping floor). Prints the load average.
Afterwards every accepted callback must be `done`; exits 1 when one is not (lost, failed, or pending
after the drain timeout).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import (
    ROOT,
    bench_env,
    cpu_seconds,
    django_setup,
    ensure_database,
    manage,
    pct,
    process_stop,
    simulated_wecom_env,
)

parser = argparse.ArgumentParser()
parser.add_argument("--rate", type=float, default=100.0)
parser.add_argument("--count", type=int, default=3000)
parser.add_argument("--pool", choices=["threads", "prefork"], default="threads")
parser.add_argument("--concurrency", type=int, default=16)
parser.add_argument("--fast-workers", type=int, default=1)
parser.add_argument("--latency", default="0.05-0.15", help="WeCom's answer time in seconds, min-max")
parser.add_argument("--drain-timeout", type=float, default=600)
parser.add_argument("--port", type=int, default=8905)
args = parser.parse_args()

BASE = f"http://127.0.0.1:{args.port}"
SIM = f"http://127.0.0.1:{args.port + 1}"
faults = Path(tempfile.mkdtemp()) / "wecom-faults.json"
low, high = (float(x) for x in args.latency.split("-"))
faults.write_text(json.dumps({"delay": low, "delay_max": high}))
env = bench_env(
    DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/load_bench_callbacks"),
    REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
    CACHE_REDIS_URL=os.environ.get("CACHE_REDIS_URL", "redis://127.0.0.1:6379/13"),
    **simulated_wecom_env(site_url=BASE, sim_url=SIM, faults_file=str(faults)),
)


def start(cmd: list[str], log: str) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=open(log, "w"), stderr=subprocess.STDOUT)


ensure_database(env["DATABASE_URL"])
manage("migrate", "--noinput", "-v", "0", env=env)
django_setup(env)

from django.utils import timezone  # noqa: E402

from scrm.org.models import Staff, Store  # noqa: E402
from scrm.wecom.models import CallbackInbox  # noqa: E402
from scrm.wecom.simulator import services as sim  # noqa: E402
from scrm.wecom.simulator.callbacks import CALLBACK_PATH, callback_build, contact_event  # noqa: E402
from scrm.wecom.simulator.models import SimExternalContact, SimFollowUser, SimMember  # noqa: E402

celery = [sys.executable, "-m", "celery", "-A", "scrm"]
subprocess.run([*celery, "purge", "-f", "-Q", "fast,slow"], env=env, cwd=ROOT, check=False, capture_output=True)
logs = tempfile.mkdtemp(prefix="bench-callbacks-")
gunicorn = [sys.executable, "-m", "gunicorn", "scrm.wsgi", "-k", "gthread", "--log-level", "warning"]
procs = [  # product web, simulated WeCom, slow worker, then the fast workers: their CPU is reported per role
    start([*gunicorn, "-w", "2", "--threads", "8", "-b", f"127.0.0.1:{args.port}"], f"{logs}/web.log"),
    start([*gunicorn, "-w", "1", "--threads", "32", "-b", f"127.0.0.1:{args.port + 1}"], f"{logs}/wecom.log"),
    start([*celery, "worker", "-Q", "slow", "-c", "1", "-n", "slow@%h", "-l", "warning"], f"{logs}/slow.log"),
    # The minute sweeps, as production runs them: a callback whose WeCom call failed is retried by them.
    start([*celery, "beat", "-s", f"{logs}/celerybeat-schedule", "-l", "warning"], f"{logs}/beat.log"),
]
for i in range(args.fast_workers):
    fast = [*celery, "worker", "-Q", "fast", "-P", args.pool, "-c", str(args.concurrency), "-n", f"fast{i}@%h"]
    procs.append(start([*fast, "-l", "warning"], f"{logs}/fast{i}.log"))

try:
    for url in (BASE, SIM):
        for _ in range(300):
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
    time.sleep(4)  # workers connecting to Redis

    run = timezone.now().strftime("%m%d%H%M%S")
    store, _ = Store.objects.get_or_create(code="BENCHCB", defaults={"name": "回调压测门店"})
    guides = []
    for i in range(20):
        staff, _ = Staff.objects.get_or_create(userid=f"cb{i:02d}", defaults={"name": f"导购{i}", "store": store})
        sim.member_add(userid=staff.userid, name=staff.name)
        guides.append(staff.userid)
    members = {m.userid: m for m in SimMember.objects.filter(userid__in=guides)}
    # WeCom's side of every add, in bulk: the friend exists before its callback arrives.
    ids = [f"wmCB{run}{i:05d}" for i in range(args.count)]
    contacts = SimExternalContact.objects.bulk_create(
        [SimExternalContact(external_userid=ext, name=f"客户{i}") for i, ext in enumerate(ids)], batch_size=1000
    )
    owners = [guides[i % len(guides)] for i in range(args.count)]
    now = int(time.time())
    SimFollowUser.objects.bulk_create(
        [
            SimFollowUser(member=members[u], contact=c, add_way=1, createtime=now, oper_userid=u)
            for u, c in zip(owners, contacts, strict=True)
        ],
        batch_size=1000,
    )
    bodies = [
        callback_build(contact_event("add_external_contact", userid=u, external_userid=e))
        for u, e in zip(owners, ids, strict=True)
    ]

    answers: list[float] = []
    errors: list[str] = []
    accepted: list[str] = []
    lock = threading.Lock()
    local = threading.local()

    def post(ext: str, query: dict, body: bytes) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        t0 = time.perf_counter()
        try:
            response = session.post(f"{BASE}{CALLBACK_PATH}", params=query, data=body, timeout=30)
        except requests.RequestException as exc:
            with lock:
                errors.append(repr(exc)[:80])
            return
        with lock:
            answers.append((time.perf_counter() - t0) * 1000)
            if response.status_code == 200 and response.text == "success":
                accepted.append(ext)
            else:
                errors.append(f"HTTP {response.status_code}")

    pings: list[float] = []
    stop_ping = threading.Event()

    def ping() -> None:
        session = requests.Session()
        while not stop_ping.is_set():
            t0 = time.perf_counter()
            session.get(f"{BASE}/healthz", timeout=10)
            pings.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.1)

    pinger = threading.Thread(target=ping)
    pinger.start()
    load_before = os.getloadavg()
    cpu_before = [cpu_seconds(p.pid) for p in procs]
    started = time.time()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for i, (ext, (query, body)) in enumerate(zip(ids, bodies, strict=True)):
            wait = started + i / args.rate - time.time()
            if wait > 0:
                time.sleep(wait)
            pool.submit(post, ext, query, body)
    sent_in = time.time() - started
    load_during = os.getloadavg()

    rows = CallbackInbox.objects.filter(external_userid__in=accepted)
    deadline = time.time() + args.drain_timeout
    while time.time() < deadline and rows.filter(status=CallbackInbox.Status.PENDING).exists():
        time.sleep(1)
    drained = time.time() - started
    cpu = [cpu_seconds(p.pid) - before for p, before in zip(procs, cpu_before, strict=True)]
    stop_ping.set()
    pinger.join()

    done = list(rows.filter(status=CallbackInbox.Status.DONE).values_list("received_at", "processed_at", named=False))
    latencies = [(p - r).total_seconds() * 1000 for r, p in done]
    by_status = {s: rows.filter(status=s).count() for s in CallbackInbox.Status.values}
    first = min(r for r, _ in done) if done else None
    last = max(p for _, p in done) if done else None
    throughput = len(done) / (last - first).total_seconds() if done and last > first else float("nan")
    within_10 = sum(1 for ms in latencies if ms <= 10_000)

    layout = f"fast queue on {args.fast_workers} worker(s) -P {args.pool} -c {args.concurrency}"
    print(f"\nlayout: {layout}; WeCom answers in {args.latency} s")
    print(f"{args.count} callbacks sent in {sent_in:.1f} s ({args.count / sent_in:.1f}/s); accepted {len(accepted)}, "
          f"refused/failed {len(errors)} {sorted(set(errors))[:3]}")  # fmt: skip
    print(f"inbox rows of accepted callbacks: {rows.count()} by status {by_status}")
    print(f"processed {len(done)} at {throughput:.1f}/s (first receipt → last processed); all drained "
          f"{drained:.0f} s after the first callback; within 10 s of receipt: {within_10}/{len(accepted)}")  # fmt: skip
    print(f"{'measure':<40}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, values in (
        ("received → processed", latencies),
        ("callback answered (WeCom's side)", answers),
        ("ping floor: /healthz during the run", pings),
    ):
        if values:
            print(
                f"{name:<40}{len(values):>6}{statistics.median(values):>10.0f}{pct(values, 0.95):>10.0f}"
                f"{pct(values, 0.99):>10.0f}{max(values):>10.0f}"
            )
    roles = {"product web": cpu[0], "simulated WeCom": cpu[1], "slow worker": cpu[2], "fast worker(s)": sum(cpu[4:])}
    n = max(len(done), 1)
    print("CPU ms per processed callback: " + ", ".join(f"{name} {sec * 1000 / n:.1f}" for name, sec in roles.items()))
    loads = " | ".join(" ".join(f"{x:.1f}" for x in load) for load in (load_before, load_during, os.getloadavg()))
    print(f"load average before / at the end of sending / now: {loads}")
    print(f"logs: {logs}")
    lost = len(accepted) - len(done)
    sys.exit(1 if lost or errors else 0)
finally:
    for proc in procs:
        process_stop(proc)
    subprocess.run([*celery, "purge", "-f", "-Q", "fast,slow"], env=env, cwd=ROOT, check=False, capture_output=True)
