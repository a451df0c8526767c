"""Welcome benchmark: callback received → welcome sent, under a steady stream of adds through a live code.

    .venv/bin/python bench/welcome.py [--rate 50] [--seconds 20] [--port 8781] [--welcome-workers 32]
        [--wecom standin|simulator] [--latency 50,150] [--processing-nice 10] [--defer-processing]

Uses its own PostgreSQL database (default postgres://postgres@127.0.0.1:5432/welcome_bench; migrated,
seeded with one store, 10 guides and one round-robin live code) and Redis db 10 (REDIS_URL to change
it; only the `welcome`, `fast` and `slow` queues there are purged). Serves the app with gunicorn (gthread)
and starts two Celery workers as production runs them: one on the `welcome` queue (welcomes and
live-code list pushes) and one on the `fast` and `slow` queues (callback processing, tag pushes), the
latter at `--processing-nice` (production gives the welcome queue a worker of its own; here the two
share the cores, so the processing yields them).

WeCom's side: by default bench/wecom_standin.py on port+1, a process answering the product's calls
from memory after `--latency` ms (WeCom's CPU is not ours in production); `--wecom simulator` mounts
the full Django simulator in the product's gunicorn instead (three more Django requests an add).
The bench process plays WeCom's callbacks: `--rate` customers a second scan the code (friends and
WelcomeCodes valid 20 s are registered with WeCom's side) and each add's signed callback is POSTed to
/wecom/callback/. The figure is WelcomeSend.sent_at − the callback's received_at (both server clocks),
per add. Printed beside it: the callback answer time as WeCom sees it, /healthz timed during the run
(the ping floor), and the CPU each process spent per add (steadier than wall time on a shared box).
Target (issue #16): welcome p95 ≤ 2 s at 50 adds/s, none expired (WeCom's window is 20 s).
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from harness import ROOT, bench_env, cpu_seconds, django_setup, ensure_database, manage, pct, process_stop

parser = argparse.ArgumentParser()
parser.add_argument("--rate", type=float, default=50.0)
parser.add_argument("--seconds", type=float, default=20.0)
parser.add_argument("--welcome-workers", type=int, default=32, help="threads of the welcome worker (as production)")
parser.add_argument("--welcome-pool", choices=["threads", "prefork"], default="threads")
parser.add_argument("--welcome-processes", type=int, default=1, help="welcome workers (each with --welcome-workers)")
parser.add_argument(
    "--port", type=int, default=8781, help="gunicorn's port; the WeCom stand-in listens on the next one"
)
parser.add_argument(
    "--wecom",
    choices=["standin", "simulator"],
    default="standin",
    help="who answers the product's WeCom calls: bench/wecom_standin.py (a process of its own answering from "
    "memory after --latency, as WeCom's CPU is not ours) or the full Django simulator on the product's gunicorn",
)
parser.add_argument("--latency", default="50,150", help="the stand-in's answer time, min,max ms")
parser.add_argument(
    "--processing-nice",
    type=int,
    default=10,
    help="nice of the worker processing the adds (fast,slow): production runs the welcome queue on a worker "
    "of its own; on this shared box the processing yields the CPU to the welcome path instead (0 to compete)",
)
parser.add_argument(
    "--defer-processing",
    action="store_true",
    help="start the default-queue worker only after the burst (the welcome path alone on the cores)",
)
args = parser.parse_args()

PORT = args.port
BASE = f"http://127.0.0.1:{PORT}"
STANDIN = f"http://127.0.0.1:{PORT + 1}"
env = bench_env(
    DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/welcome_bench"),
    REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10"),
    WECOM_SIMULATOR="true",
    WECOM_SIMULATOR_UNSAFE_IN_PRODUCTION="yes-i-know",
    WECOM_CALLBACK_TOKEN="benchToken",
    WECOM_CALLBACK_AES_KEY="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    SITE_URL=BASE,
    WECOM_API_BASE=f"{STANDIN}/cgi-bin/" if args.wecom == "standin" else f"{BASE}/_wecom/cgi-bin/",
    CELERY_TASK_SOFT_TIME_LIMIT="60",
)


ensure_database(env["DATABASE_URL"])
manage("migrate", "--noinput", "-v", "0", env=env)
django_setup(env)


def start(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, cwd=ROOT)


celery = [sys.executable, "-m", "celery", "-A", "scrm"]
subprocess.run([*celery, "purge", "-f", "-Q", "welcome,fast,slow"], env=env, cwd=ROOT, check=False)
gunicorn_cmd = [sys.executable, "-m", "gunicorn", "scrm.wsgi", "-k", "gthread", "-w", "3", "--threads", "8",
                "-b", f"127.0.0.1:{PORT}", "--log-level", "warning"]  # fmt: skip
named = {"gunicorn (callbacks, ping)": start(gunicorn_cmd)}
for n in range(args.welcome_processes):
    named[f"welcome worker {n + 1}"] = start(
        [*celery, "worker", "-Q", "welcome", "-P", args.welcome_pool, "-c", str(args.welcome_workers),
         "-n", f"welcome{n + 1}@%h", "-l", "warning"])  # fmt: skip
if args.wecom == "standin":
    named["WeCom stand-in"] = start(
        [sys.executable, str(ROOT / "bench" / "wecom_standin.py"), "--port", str(PORT + 1), "--latency", args.latency]
    )
default_worker = ["nice", "-n", str(args.processing_nice), *celery, "worker", "-Q", "fast,slow", "-P", "threads",
                  "-c", "4", "-n", "default@%h", "-l", "warning"]  # fmt: skip
if not args.defer_processing:
    named["processing worker"] = start(default_worker)
procs = list(named.values())


def runqueue_seconds(pid: int) -> float:
    """Time the threads of a process (and its live descendants) spent runnable but waiting for a CPU
    (/proc/<pid>/task/<tid>/schedstat, second field): on a shared box, the neighbours' share."""
    total = 0.0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[1]) / 1e9
            total += sum(runqueue_seconds(int(child)) for child in (task / "children").read_text().split())
    except FileNotFoundError:
        pass
    return total


try:
    for url in [f"{BASE}/healthz", *([f"{STANDIN}/_bench/stats"] if args.wecom == "standin" else [])]:
        for _ in range(200):
            try:
                requests.get(url, timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
    time.sleep(3)  # workers connecting to Redis
    if exited := [name for name, proc in named.items() if proc.poll() is not None]:
        raise SystemExit(f"exited at start (port taken?): {exited}")

    from django.utils import timezone

    from scrm.livecodes.models import WelcomeSend
    from scrm.livecodes.services import CodeInput, livecode_create
    from scrm.livecodes.sync import livecode_sync
    from scrm.org.models import Staff, Store
    from scrm.wecom.models import CallbackInbox
    from scrm.wecom.simulator import services as sim

    run = timezone.now().strftime("%H%M%S")
    store, _ = Store.objects.get_or_create(code="BENCH", defaults={"name": "压测门店"})
    guides = []
    for i in range(10):
        staff, _ = Staff.objects.get_or_create(userid=f"bench{i:02d}", defaults={"name": f"导购{i}", "store": store})
        if args.wecom == "simulator":
            sim.member_add(userid=staff.userid, name=staff.name)
        guides.append(staff)
    data = CodeInput(
        name=f"压测码{run}",
        channel_group="counter",
        store=store,
        spread_mode="round_robin",
        guides=guides,
        backups=[],
        welcome_text="{客户称呼}您好，我是{导购姓名}，欢迎光临{门店}～",
    )
    code = livecode_create(data=data, created_by=None)
    livecode_sync(code_id=code.pk, reason="created")
    code.refresh_from_db()
    if not code.config_id:
        raise SystemExit(f"code not synced: {code.sync_error}")

    answers: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    from scrm.wecom.simulator.callbacks import CALLBACK_PATH, callback_build, contact_event
    from scrm.wecom.simulator.models import SimContactWay, SimExternalContact, SimFollowUser, SimMember, SimWelcomeCode

    if args.wecom == "simulator":
        way = SimContactWay.objects.get(config_id=code.config_id)
        members = {m.userid: m for m in SimMember.objects.filter(userid__in=way.user)}
        users, state = way.user, way.state
    else:
        users, state = [g.userid for g in guides], code.state
    standin = requests.Session()

    def prepare(second: int) -> list[dict]:
        """WeCom's side of one second of scans, written in bulk so the driver keeps the rate: friends
        (in turn, as the simulator's scan does), WelcomeCodes (valid 20 s from now) and the events."""
        n = int(args.rate)
        ids = [f"wm{run}{second:04d}{i:03d}" for i in range(n)]
        userids = [users[(second * n + i) % len(users)] for i in range(n)]
        codes = [sim.new_id("wc", 16) for _ in ids]
        events = [
            contact_event("add_external_contact", userid=u, external_userid=e, State=state, WelcomeCode=c)
            for u, e, c in zip(userids, ids, codes, strict=True)
        ]
        now = int(time.time())
        if args.wecom == "standin":
            contacts = [
                [e, u, state, f"客户{second}-{i}", now] for i, (e, u) in enumerate(zip(ids, userids, strict=True))
            ]
            standin.post(f"{STANDIN}/_bench/register", json={"contacts": contacts, "codes": [[c, now] for c in codes]})
            return events
        contacts = SimExternalContact.objects.bulk_create(
            [SimExternalContact(external_userid=ext, name=f"客户{second}-{i}") for i, ext in enumerate(ids)]
        )
        SimFollowUser.objects.bulk_create(
            [
                SimFollowUser(member=members[u], contact=c, state=state, add_way=1, createtime=now, oper_userid=u)
                for u, c in zip(userids, contacts, strict=True)
            ]
        )
        SimWelcomeCode.objects.bulk_create(
            [SimWelcomeCode(code=c, userid=u, external_userid=e) for c, u, e in zip(codes, userids, ids, strict=True)]
        )
        return events

    sessions = threading.local()

    def post(event: dict) -> None:
        session = getattr(sessions, "session", None) or requests.Session()
        sessions.session = session
        query, body = callback_build(event)
        try:
            t0 = time.perf_counter()
            response = session.post(f"{BASE}{CALLBACK_PATH}", params=query, data=body, timeout=30)
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                answers.append(elapsed)
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}")
        except requests.RequestException as exc:
            with lock:
                errors.append(repr(exc))

    pings: list[float] = []
    stop_ping = threading.Event()

    def ping() -> None:
        session = requests.Session()
        while not stop_ping.is_set():
            t0 = time.perf_counter()
            session.get(f"{BASE}/healthz", timeout=5)
            pings.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.05)

    seconds = int(args.seconds)
    total = int(args.rate) * seconds
    pinger = threading.Thread(target=ping)
    pinger.start()
    started = time.time()
    cpu_before = {name: cpu_seconds(proc.pid) for name, proc in named.items()}
    waited_before = {name: runqueue_seconds(proc.pid) for name, proc in named.items()}
    with ThreadPoolExecutor(max_workers=16) as pool:
        for second in range(seconds):
            events = prepare(second)
            for i, event in enumerate(events):
                wait = started + second + i / args.rate - time.time()
                if wait > 0:
                    time.sleep(wait)
                pool.submit(post, event)
    sent_in = time.time() - started
    deadline = time.time() + 60
    rows = WelcomeSend.objects.filter(code=code)
    while time.time() < deadline and rows.exclude(status=WelcomeSend.Status.SENDING).count() < total:
        time.sleep(0.5)
    stop_ping.set()
    pinger.join()
    cpu_used = {name: cpu_seconds(proc.pid) - cpu_before[name] for name, proc in named.items()}
    waited = {name: runqueue_seconds(proc.pid) - waited_before[name] for name, proc in named.items()}
    welcomes_done = time.time() - started
    processed = CallbackInbox.objects.filter(payload__State=code.state).exclude(status=CallbackInbox.Status.PENDING)
    processed_by_then = processed.count()
    if args.defer_processing:
        procs.append(start(default_worker))
        inbox = CallbackInbox.objects.filter(payload__State=code.state)
        drain_deadline = time.time() + 600
        while time.time() < drain_deadline and inbox.filter(status=CallbackInbox.Status.PENDING).exists():
            time.sleep(1)
        print(f"callbacks processed after the burst: {inbox.exclude(status=CallbackInbox.Status.PENDING).count()}")

    received = dict(
        CallbackInbox.objects.filter(payload__State=code.state).values_list("payload__WelcomeCode", "received_at")
    )
    latencies = [
        (r.sent_at - received[r.welcome_code]).total_seconds() * 1000
        for r in rows.filter(status=WelcomeSend.Status.SENT)
        if r.welcome_code in received
    ]
    # Where the time went: queued (callback stored → the task claims the WelcomeCode) and in the task.
    sent = rows.filter(status=WelcomeSend.Status.SENT)
    queued = [(r.created_at - r.received_at).total_seconds() * 1000 for r in sent]
    in_task = [(r.sent_at - r.created_at).total_seconds() * 1000 for r in sent]
    by_status = {s: rows.filter(status=s).count() for s in WelcomeSend.Status.values}
    print(f"\n{total} adds in {sent_in:.1f} s ({total / sent_in:.1f}/s); callback errors: {len(errors)} {errors[:3]}")
    print(f"welcome rows by status: {by_status}; still queued when the bench stopped waiting: {total - rows.count()}")
    print(f"{'measure':<38}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, values in (
        ("callback received → welcome sent", latencies),
        ("  of which queued (until a worker took it)", queued),
        ("  of which in the task (2 WeCom calls)", in_task),
        ("callback answered (WeCom side)", answers),
        ("ping floor: /healthz during the run", pings),
    ):
        if values:
            print(
                f"{name:<38}{len(values):>6}{statistics.median(values):>10.1f}{pct(values, 0.95):>10.1f}"
                f"{max(values):>10.1f}"
            )
    print(f"ms per add, burst start → last welcome ({welcomes_done:.1f} s; processing is not done by then):")
    print(f"  {'process':<36}{'on a CPU':>10}{'waiting for one':>17}")
    for name, used in cpu_used.items():
        print(f"  {name:<36}{used * 1000 / total:>10.1f}{waited[name] * 1000 / total:>17.1f}")
    if args.wecom == "standin":
        print(f"WeCom stand-in ({args.latency} ms): {requests.get(f'{STANDIN}/_bench/stats', timeout=5).json()}")
    else:
        print("WeCom: the Django simulator on the product's gunicorn")
    print(f"processing worker (fast,slow): nice {args.processing_nice}; adds processed by the last welcome: "
          f"{processed_by_then} of {total}")  # fmt: skip
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
finally:
    for proc in procs:
        process_stop(proc)
    subprocess.run([*celery, "purge", "-f", "-Q", "welcome,fast,slow"], env=env, cwd=ROOT, check=False)
