"""Combined load run (#13, "Prove it"): guides in the sidebar, WeCom callbacks and API ingestion at once.

    .venv/bin/python bench/load/full.py [--guides 200] [--duration 120] [--callback-rate 100]
        [--event-rate 1000] [--batch 100] [--think 1-5] [--latency 0.05-0.15] [--port 8911]

Against the seeded PostgreSQL database (DATABASE_URL, default scrm_bench_cpu: 100k customers / 5.3M
events, seeded by bench/sidebar.py) and Redis db 15 (its fast/slow/welcome queues are purged). The
production process layout of deploy/: the web pool (deploy/gunicorn.conf.py, sync workers, cores × 2 + 1)
for the sidebar on --port; the web-ingest pool (same config, 4 threads) for /api/ and /wecom/callback/ on
--port + 1; Celery `fast` (-P threads -c 16), `slow` (prefork), `welcome` (-P threads -c 32) and beat.
WeCom is the simulator in a gunicorn of its own on --port + 2, answering after a uniform --latency draw.

Each simulated guide signs in (a session of one of the database's guides, shared round-robin), then loops
with a --think pause (uniform, seconds) between actions: a chat switch opens a customer's portrait, and
then one of: scroll the timeline (first page and the next one), search the materials and send one
(prepare + send report), add a tag, write a note. At the same time `--callback-rate` signed
add_external_contact callbacks/s (a new customer each, its WeCom side written before the run) and
`--event-rate` API events/s in batches of `--batch` for random existing customers.
Prints throughput and p50/p95/p99 per action, errors, callback receipt → processed, the ping and
bare-view floors sampled during the run, CPU per process role and the load average; then accounts for
every accepted callback (processed) and event (stored). Exits 1 on any error or anything unaccounted for.
"""

import argparse
import collections
import datetime as dt
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import ROOT, bench_env, cpu_seconds, django_setup, manage, pct, simulated_wecom_env

parser = argparse.ArgumentParser()
parser.add_argument("--guides", type=int, default=200, help="concurrent simulated guides")
parser.add_argument("--duration", type=float, default=120, help="seconds of load")
parser.add_argument("--callback-rate", type=float, default=100)
parser.add_argument("--event-rate", type=float, default=1000)
parser.add_argument("--batch", type=int, default=100, help="events per API batch")
parser.add_argument("--think", default="1-5", help="a guide's pause between actions in seconds, min-max")
parser.add_argument("--latency", default="0.05-0.15", help="WeCom's answer time in seconds, min-max")
parser.add_argument("--warmup", type=float, default=10, help="first seconds of load not timed (cold workers)")
parser.add_argument("--drain-timeout", type=float, default=300)
parser.add_argument("--port", type=int, default=8911, help="web; +1 web-ingest; +2 simulated WeCom")
args = parser.parse_args()

WEB, INGEST, SIM = (f"http://127.0.0.1:{args.port + i}" for i in range(3))
think_low, think_high = (float(x) for x in args.think.split("-"))
faults = Path(tempfile.mkdtemp()) / "wecom-faults.json"
low, high = (float(x) for x in args.latency.split("-"))
faults.write_text(json.dumps({"delay": low, "delay_max": high}))
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
env = bench_env(
    DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/scrm_bench_cpu"),
    REDIS_URL=REDIS,
    CACHE_REDIS_URL=os.environ.get("CACHE_REDIS_URL", REDIS),
    **simulated_wecom_env(site_url=WEB, sim_url=SIM, faults_file=str(faults)),
    API_RATE_LIMIT="10000000/min",  # one brand system posting at the asked rate: not the limit measured
    GUNICORN_LOG_LEVEL="warning",
)
manage("migrate", "--noinput", "-v", "0", env=env)
manage("collectstatic", "--noinput", "-v", "0", env=env)
django_setup(env)

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.cached_db import SessionStore  # noqa: E402
from django.db.models import Count  # noqa: E402

from scrm.api.models import ApiScope  # noqa: E402
from scrm.api.services import api_key_create  # noqa: E402
from scrm.customers.models import Event, FollowRelation, Tag  # noqa: E402
from scrm.materials.models import Material  # noqa: E402
from scrm.materials.sending import send_request_id  # noqa: E402
from scrm.org.models import Staff, Store  # noqa: E402
from scrm.wecom.models import CallbackInbox  # noqa: E402
from scrm.wecom.simulator import services as sim  # noqa: E402
from scrm.wecom.simulator.callbacks import CALLBACK_PATH, callback_build, contact_event  # noqa: E402
from scrm.wecom.simulator.models import SimExternalContact, SimFollowUser, SimMember  # noqa: E402

# --- data: guides (sessions), their customers, materials, tags, callbacks' WeCom side -----------------
run = dt.datetime.now(dt.UTC).strftime("%m%d%H%M%S")
rng = random.Random(20261213)
staff_ids = [
    row["staff"]
    for row in FollowRelation.objects.filter(
        ended_at__isnull=True, staff__role="guide", staff__is_active=True, staff__user__isnull=False
    )
    .values("staff")
    .annotate(n=Count("id"))
    .order_by("-n")[:50]
]
customers_of = {
    sid: list(
        FollowRelation.objects.filter(staff_id=sid, ended_at__isnull=True).values_list(
            "external_userid", "customer_id"
        )[:300]
    )
    for sid in staff_ids
}
staff = {s.pk: s for s in Staff.objects.filter(pk__in=staff_ids).select_related("user")}


def session_for(member: Staff) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(member.user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = member.user.get_session_auth_hash()
    store.create()
    return store.session_key


guides = [(staff[sid], session_for(staff[sid])) for sid in (staff_ids[i % len(staff_ids)] for i in range(args.guides))]
text_ids = [  # what the tab offers to send now: published and within its validity window
    m.pk for m in Material.objects.filter(kind=Material.Kind.TEXT, status=Material.Status.PUBLISHED) if m.is_sendable()
]
tag_ids = list(Tag.objects.filter(deleted=False, group__deleted=False).values_list("id", flat=True))
WORDS = ["精华", "面霜", "防晒", "口红", "面膜", "洁面"]
event_customers = list(
    FollowRelation.objects.filter(ended_at__isnull=True).values_list("external_userid", flat=True)[:20000]
)

cb_count = int(args.callback_rate * (args.warmup + args.duration))
store, _ = Store.objects.get_or_create(code="BENCHFULL", defaults={"name": "综合压测门店"})
cb_guides = []
for i in range(20):
    member, _ = Staff.objects.get_or_create(userid=f"full{i:02d}", defaults={"name": f"导购{i}", "store": store})
    sim.member_add(userid=member.userid, name=member.name)
    cb_guides.append(member.userid)
members = {m.userid: m for m in SimMember.objects.filter(userid__in=cb_guides)}
cb_ids = [f"wmFULL{run}{i:06d}" for i in range(cb_count)]
contacts = SimExternalContact.objects.bulk_create(
    [SimExternalContact(external_userid=ext, name=f"客户{i}") for i, ext in enumerate(cb_ids)], batch_size=1000
)
owners = [cb_guides[i % len(cb_guides)] for i in range(cb_count)]
SimFollowUser.objects.bulk_create(
    [
        SimFollowUser(member=members[u], contact=c, add_way=1, createtime=int(time.time()), oper_userid=u)
        for u, c in zip(owners, contacts, strict=True)
    ],
    batch_size=1000,
)
callbacks = [
    callback_build(contact_event("add_external_contact", userid=u, external_userid=e))
    for u, e in zip(owners, cb_ids, strict=True)
]
_key, api_secret = api_key_create(name=f"full bench {run}", scope=ApiScope.WRITE)
print(
    f"data: {len(guides)} simulated guides over {len(staff_ids)} guides, {len(text_ids)} text materials, "
    f"{len(tag_ids)} tags, {cb_count} callbacks prepared, {len(event_customers)} customers for events"
)

# --- the production layout --------------------------------------------------------------------------
logs = tempfile.mkdtemp(prefix="bench-full-")
celery = [sys.executable, "-m", "celery", "-A", "scrm"]


def start(cmd: list[str], log: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(cmd, env={**env, **extra}, cwd=ROOT, stdout=open(log, "w"), stderr=subprocess.STDOUT)


def purge() -> None:
    queues = ["-Q", "fast,slow,welcome"]
    subprocess.run([*celery, "purge", "-f", *queues], env=env, cwd=ROOT, check=False, capture_output=True)


# bench_wsgi serves the product plus the bare floor view; the config is production's (deploy/).
web = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--pythonpath", "bench", "bench_wsgi"]
purge()
procs = {
    "web (sidebar)": start(web, f"{logs}/web.log", GUNICORN_BIND=f"127.0.0.1:{args.port}"),
    "web-ingest": start(web, f"{logs}/ingest.log", GUNICORN_BIND=f"127.0.0.1:{args.port + 1}", GUNICORN_THREADS="4"),
    "simulated WeCom": start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "scrm.wsgi",
            "-k",
            "gthread",
            "-w",
            "1",
            "--threads",
            "32",
            "-b",
            f"127.0.0.1:{args.port + 2}",
            "--log-level",
            "warning",
        ],
        f"{logs}/wecom.log",
    ),  # fmt: skip
    "worker fast": start(
        [*celery, "worker", "-Q", "fast", "-n", "fast@%h", "-P", "threads", "-c", "16"], f"{logs}/fast.log"
    ),  # fmt: skip
    "worker slow": start([*celery, "worker", "-Q", "slow", "-n", "slow@%h"], f"{logs}/slow.log"),
    "worker welcome": start(
        [*celery, "worker", "-Q", "welcome", "-n", "welcome@%h", "-P", "threads", "-c", "32"], f"{logs}/welcome.log"
    ),  # fmt: skip
    "beat": start([*celery, "beat", "-s", f"{logs}/celerybeat-schedule"], f"{logs}/beat.log"),
}

# --- the load ---------------------------------------------------------------------------------------
timings: dict[str, list[float]] = collections.defaultdict(list)
errors: collections.Counter = collections.Counter()
error_samples: dict[str, str] = {}
accepted_callbacks: list[str] = []
sent_events: list[str] = []
lock = threading.Lock()
stop_at = 0.0
timed_from = 0.0  # requests before this are not timed (warm-up); their errors still count


def timed(action: str, send, url: str, **kwargs) -> requests.Response | None:
    """send(url, **kwargs) once; record its time, or an error (no answer, or not 200)."""
    t0, t0_wall = time.perf_counter(), time.time()
    try:
        response = send(url, timeout=60, **kwargs)
        detail = f"HTTP {response.status_code}: {response.text[:100]}"
        ok = response.status_code in (200, 201)
    except requests.RequestException as exc:
        response, ok, detail = None, False, repr(exc)[:120]
    elapsed = (time.perf_counter() - t0) * 1000
    with lock:
        if ok:
            if t0_wall >= timed_from:
                timings[action].append(elapsed)
        else:
            errors[action] += 1
            error_samples.setdefault(action, detail)
    return response if ok else None


NEXT = re.compile(r'\?after=([^"&]+)')
HX = {"HX-Request": "true"}


def guide_action(session: requests.Session, local: random.Random, member: Staff, ext: str, customer_id: int) -> None:
    """What a guide does in an open chat after its portrait: scroll, send a material, tag, or note."""
    page = f"{WEB}/sidebar/c/{ext}/"
    roll = local.random()
    if roll < 0.4:
        first = timed("timeline first page", session.get, f"{page}timeline/")
        found = NEXT.search(first.text) if first is not None else None
        if found:
            time.sleep(local.uniform(think_low, think_high) / 2)
            timed("timeline scroll", session.get, f"{page}timeline/?after={found.group(1)}", headers=HX)
    elif roll < 0.7 and text_ids:
        url = f"{page}materials/?section=all&q={local.choice(WORDS)}"
        timed("material search", session.get, url, headers={**HX, "HX-Target": "mat-results"})
        time.sleep(local.uniform(think_low, think_high) / 2)
        material = local.choice(text_ids)
        timed("material prepare", session.post, f"{page}materials/{material}/prepare", json={})
        rid = send_request_id(material_id=material, customer_id=customer_id, staff_id=member.pk)
        report = {"status": "sent", "errMsg": ""}
        timed("material send report", session.post, f"{page}materials/sends/{rid}", json=report)
    elif roll < 0.85 and tag_ids:
        timed("tag add", session.post, f"{page}tags/add/", data={"tag": local.choice(tag_ids)}, headers=HX)
    else:
        note = {"body": f"压测跟进 {secrets.token_hex(3)}：客户询问了精华液"}
        timed("note add", session.post, f"{page}notes/", data=note, headers=HX)


def guide_loop(member: Staff, session_key: str) -> None:
    """One guide at work until the end of the run (a closed loop with think time)."""
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, session_key)
    csrf = secrets.token_hex(16)
    session.cookies.set(settings.CSRF_COOKIE_NAME, csrf)
    session.headers["X-CSRFToken"] = csrf
    local = random.Random(session_key)
    time.sleep(local.uniform(0, think_high))  # guides do not all start on the same second
    while time.time() < stop_at:
        ext, customer_id = local.choice(customers_of[member.pk])
        timed("portrait (chat switch)", session.get, f"{WEB}/sidebar/c/{ext}/")
        time.sleep(local.uniform(think_low, think_high))
        if time.time() < stop_at:
            guide_action(session, local, member, ext, customer_id)
            time.sleep(local.uniform(think_low, think_high))


def callback_post(ext: str, query: dict, body: bytes) -> None:
    response = timed("callback (WeCom's side)", requests.post, f"{INGEST}{CALLBACK_PATH}", params=query, data=body)
    if response is not None and response.text == "success":
        with lock:
            accepted_callbacks.append(ext)


def callbacks_at_rate() -> None:
    started = time.time()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for i, (ext, (query, body)) in enumerate(zip(cb_ids, callbacks, strict=True)):
            wait = started + i / args.callback_rate - time.time()
            if wait > 0:
                time.sleep(wait)
            pool.submit(callback_post, ext, query, body)


def event_post(batch_no: int) -> None:
    now = dt.datetime.now(dt.UTC)
    ids = [f"full-{run}-{batch_no}-{i}" for i in range(args.batch)]
    events = [
        {
            "id": event_id,
            "kind": "mp_product_view",
            "occurred_at": (now - dt.timedelta(seconds=i)).isoformat(),
            "channel": "mp",
            "identities": {"wecom_external_userid": rng.choice(event_customers)},
            "payload": {"product": "修护精华液 30ml"},
        }
        for i, event_id in enumerate(ids)
    ]
    headers = {"Authorization": f"Api-Key {api_secret}"}
    url = f"{INGEST}/api/v1/events"
    if timed("event batch", requests.post, url, json={"source": "mp", "events": events}, headers=headers):
        with lock:
            sent_events.extend(ids)


def events_at_rate() -> None:
    batches = int(args.event_rate * (args.warmup + args.duration) / args.batch)
    started = time.time()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for n in range(batches):
            wait = started + n * args.batch / args.event_rate - time.time()
            if wait > 0:
                time.sleep(wait)
            pool.submit(event_post, n)


def floors_sampled(stop: threading.Event) -> None:
    """The floors of this run, sampled during the load: the sidebar ping and a bare Django view."""
    session = requests.Session()
    while not stop.is_set():
        timed("floor: ping (sidebar)", session.get, f"{WEB}/sidebar/ping/")
        timed("floor: bare Django view", session.get, f"{WEB}/bench/bare/")
        time.sleep(0.2)


def stored_events(ids: list[str]) -> int:
    keys = [f"api:mp:{e}" for e in ids]
    return sum(Event.objects.filter(dedupe_key__in=keys[i : i + 5000]).count() for i in range(0, len(keys), 5000))


try:
    for url in (WEB, INGEST, SIM):
        for _ in range(300):
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
    time.sleep(4)  # workers connecting to Redis
    load_before = os.getloadavg()
    cpu_before = {name: cpu_seconds(p.pid) for name, p in procs.items()}
    started = time.time()
    timed_from = started + args.warmup
    stop_at = timed_from + args.duration
    stop_floor = threading.Event()
    threads = [threading.Thread(target=guide_loop, args=g) for g in guides]
    threads += [threading.Thread(target=callbacks_at_rate), threading.Thread(target=events_at_rate)]
    threads.append(threading.Thread(target=floors_sampled, args=(stop_floor,)))
    for thread in threads:
        thread.start()
    for thread in threads[:-1]:
        thread.join()
    stop_floor.set()
    threads[-1].join()
    load_end = os.getloadavg()
    cpu = {name: cpu_seconds(p.pid) - cpu_before[name] for name, p in procs.items()}

    # Accounting: every accepted callback processed, every accepted event stored.
    rows = CallbackInbox.objects.filter(external_userid__in=accepted_callbacks)
    deadline = time.time() + args.drain_timeout
    while time.time() < deadline and (
        rows.exclude(status=CallbackInbox.Status.DONE).exists() or stored_events(sent_events) < len(sent_events)
    ):
        time.sleep(2)
    drained = time.time() - started
    done = list(rows.filter(status=CallbackInbox.Status.DONE).values_list("received_at", "processed_at"))
    latencies = [(p - r).total_seconds() * 1000 for r, p in done]
    by_status = {s: rows.filter(status=s).count() for s in CallbackInbox.Status.values}
    stored = stored_events(sent_events)

    print(
        f"\nlayout: web (sync, gunicorn.conf.py) :{args.port}, web-ingest (4 threads) :{args.port + 1}, fast -P "
        f"threads -c 16, slow prefork, welcome -P threads -c 32, beat; WeCom answers in {args.latency} s"
    )
    print(
        f"load: {args.guides} guides (think {args.think} s), {args.callback_rate:g} callbacks/s, {args.event_rate:g} "
        f"events/s in batches of {args.batch}; timed {args.duration:g} s after {args.warmup:g} s of warm-up"
    )
    print(f"{'action':<34}{'n':>7}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    for action in sorted(set(timings) | set(errors)):
        values = timings[action]
        cells = f"{pct(values, 0.5):>9.0f}{pct(values, 0.95):>9.0f}{pct(values, 0.99):>9.0f}" if values else " " * 27
        top = f"{max(values):>9.0f}" if values else " " * 9
        print(f"{action:<34}{len(values):>7}{len(values) / args.duration:>8.1f}{cells}{top}{errors[action]:>8}")
    sidebar = [ms for a, v in timings.items() if not a.startswith(("floor", "callback", "event")) for ms in v]
    within_10 = sum(1 for ms in latencies if ms <= 10_000)
    print(f"all sidebar actions: n {len(sidebar)}, p95 {pct(sidebar, 0.95):.0f} ms (target ≤ 150)")
    if latencies:
        print(
            f"callback received → processed: p50 {pct(latencies, 0.5):.0f} ms, p95 {pct(latencies, 0.95):.0f}, p99 "
            f"{pct(latencies, 0.99):.0f}, max {max(latencies):.0f}; within 10 s: {within_10}/{len(latencies)}"
        )
    print(f"callbacks: sent {cb_count}, accepted {len(accepted_callbacks)}, inbox by status {by_status}")
    print(
        f"events: sent in accepted batches {len(sent_events)}, stored {stored}; accounted {drained:.0f} s after start"
    )
    for action, sample in error_samples.items():
        print(f"  first error of {action}: {sample}")
    print("CPU seconds per role: " + ", ".join(f"{name} {sec:.1f}" for name, sec in cpu.items()))
    loads = " | ".join(" ".join(f"{x:.1f}" for x in load) for load in (load_before, load_end, os.getloadavg()))
    print(f"load average before / at the end of the load / now: {loads} on {os.cpu_count()} cores")
    print(f"logs: {logs}")
    lost = (len(accepted_callbacks) - len(done)) + (len(sent_events) - stored)
    failed = sum(errors.values()) + (cb_count - len(accepted_callbacks))
    sys.exit(1 if lost or failed else 0)
finally:
    for proc in procs.values():
        proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    purge()
