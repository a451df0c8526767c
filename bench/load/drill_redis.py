"""Driver of bench/load/drill-redis: guides' page views, WeCom callbacks and event batches before, during and
after a Redis outage. Every request must succeed; afterwards every callback is processed and every event is
stored. Prints what happened per phase and exits non-zero on a failed request or a loss.

    python bench/load/drill_redis.py <base url> <api key> <seconds down>
"""

import collections
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import django
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scrm.settings")
django.setup()

from drill_kit import GUIDE, add_event, callback_send, event_batch_send, guide_setup  # noqa: E402

from scrm.customers.models import Event  # noqa: E402
from scrm.wecom.models import CallbackInbox  # noqa: E402
from scrm.wecom.simulator import services as sim  # noqa: E402

CUSTOMERS = 10
PHASE_SECONDS = 8
SETTLE_TIMEOUT = 180  # beat's sweeps run every minute: work dispatched while the broker was down waits for them
REDIS_PORT = os.environ["REDIS_PORT"]


class Drill:
    def __init__(self, base: str, api_key: str) -> None:
        self.base, self.api_key = base, api_key
        self.results: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.phase = "before"
        self.callbacks: list[str] = []
        self.events: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def record(self, action: str, ok: bool) -> None:
        with self.lock:
            self.results[self.phase][f"{action} {'ok' if ok else 'FAILED'}"] += 1

    def guide_session(self) -> tuple[requests.Session, list[str]]:
        session, externals = guide_setup(self.base, CUSTOMERS)
        self.callbacks.extend(externals)
        return session, externals

    def pages(self, session: requests.Session, externals: list[str]) -> None:
        n = 0
        while not self.stop.is_set():
            ext = externals[n % len(externals)]
            n += 1
            for action, path in (
                ("portrait", f"/sidebar/c/{ext}/"),
                ("timeline", f"/sidebar/c/{ext}/timeline/"),
                ("materials", f"/sidebar/c/{ext}/materials/"),
                ("today", "/sidebar/today/"),
            ):
                try:
                    ok = session.get(self.base + path, timeout=15).status_code == 200
                except requests.RequestException:
                    ok = False
                self.record(action, ok)

    def callbacks_and_events(self) -> None:
        while not self.stop.is_set():
            ext = f"wmDRILLNEW{secrets.token_hex(6)}"
            sim.follow_add(userid=GUIDE, external_userid=ext)
            ok = callback_send(self.base, add_event(ext))
            self.record("callback", ok)
            if ok:
                self.callbacks.append(ext)
            event_id, status = event_batch_send(self.base, self.api_key, ext)
            ok = status == 200
            if not ok and not self.results[self.phase]["event batch FAILED"]:
                print(f"event batch answered {status or 'nothing'}")
            self.record("event batch", ok)
            if ok:
                self.events.append(event_id)
            time.sleep(0.2)


def redis(command: list[str]) -> None:
    subprocess.run(command, check=False, capture_output=True)


def main(base: str, api_key: str, down: int) -> int:
    drill = Drill(base, api_key)
    session, externals = drill.guide_session()
    threads = [threading.Thread(target=drill.pages, args=(session, externals)) for _ in range(2)]
    threads.append(threading.Thread(target=drill.callbacks_and_events))
    for thread in threads:
        thread.start()
    time.sleep(PHASE_SECONDS)
    drill.phase = "redis down"
    redis(["redis-cli", "-p", REDIS_PORT, "shutdown", "nosave"])
    time.sleep(down)
    drill.phase = "after"
    redis(["redis-server", "--port", REDIS_PORT, "--save", "", "--appendonly", "no", "--daemonize", "yes"])
    time.sleep(PHASE_SECONDS)
    drill.stop.set()
    for thread in threads:
        thread.join()

    failed = 0
    for phase, counts in drill.results.items():
        print(f"{phase}: " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items())))
        failed += sum(n for name, n in counts.items() if name.endswith("FAILED"))

    started = time.monotonic()
    while time.monotonic() - started < SETTLE_TIMEOUT:
        pending = CallbackInbox.objects.filter(external_userid__in=drill.callbacks).exclude(status="done").count()
        stored = Event.objects.filter(dedupe_key__in=[f"api:mp:{e}" for e in drill.events]).count()
        if not pending and stored == len(drill.events):
            break
        time.sleep(2)
    done = CallbackInbox.objects.filter(external_userid__in=drill.callbacks, status="done").count()
    stored = Event.objects.filter(dedupe_key__in=[f"api:mp:{e}" for e in drill.events]).count()
    print(
        f"accounted for {time.monotonic() - started:.0f} s after Redis came back: "
        f"callbacks processed {done}/{len(drill.callbacks)}, events stored {stored}/{len(drill.events)}"
    )
    lost = len(drill.callbacks) - done + len(drill.events) - stored
    print("drill:", "FAILED" if failed or lost else "passed", f"({failed} failed requests, {lost} lost)")
    return 1 if failed or lost else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
