"""Driver of bench/load/drill-pg-restart: the drill's own PostgreSQL cluster is stopped and started again
under load — a guide's sidebar pages, WeCom callbacks, API event batches. During the outage requests must
fail cleanly (an HTTP 5xx, never a hang or a half-written batch); afterwards the app must answer again
without a restart (persistent connections are health-checked); callbacks refused during the outage are
sent again the way WeCom retries them and must then be accepted, as must the brand's retried batches; at
the end every accepted callback is processed and every accepted event stored exactly once. Exits non-zero
otherwise.

    python bench/load/drill_pg_restart.py <base url> <api key> <seconds down>
"""

import collections
import os
import secrets
import subprocess
import sys
import threading
import time

import requests
from django.db import connection
from drill_kit import GUIDE, Tally, add_event, callback_send, event_batch_send, guide_setup, settle, sim

from scrm.customers.models import Event
from scrm.wecom.models import CallbackInbox

PHASE_SECONDS = 8
RETRY_EVERY = 2  # seconds between the sender's retries of a refused callback or batch
RETRY_FOR = 90
SETTLE_TIMEOUT = 200
SPARE_CUSTOMERS = 400  # made in the simulated WeCom beforehand: it shares the database that goes down


def pg_ctl(*args: str) -> None:
    command = [f"{os.environ['PGBIN']}/pg_ctl", "-D", os.environ["PGDATA"], *args]
    subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True)


class Drill:
    def __init__(self, base: str, api_key: str) -> None:
        self.base, self.api_key = base, api_key
        self.tally = Tally()
        self.callbacks: list[str] = []
        self.events: list[str] = []
        self.retried = collections.Counter()
        self.given_up = collections.Counter()
        self.stop = threading.Event()
        self.page_statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

    def pages(self, session: requests.Session, externals: list[str]) -> None:
        n = 0
        while not self.stop.is_set():
            ext = externals[n % len(externals)]
            n += 1
            for path in (f"/sidebar/c/{ext}/", f"/sidebar/c/{ext}/timeline/", "/sidebar/today/"):
                try:
                    status = session.get(self.base + path, timeout=15).status_code
                except requests.RequestException as exc:
                    status = type(exc).__name__
                phase = self.tally.phase  # when the answer came: one in flight at the stop may fail too
                self.page_statuses[phase][status] += 1
                # During the outage an error page is the clean answer; before and after, only a page is.
                clean = status == 200 or (phase == "PostgreSQL down" and isinstance(status, int) and status >= 500)
                self.tally.record("page view", clean)

    def with_retries(self, action: str, send) -> bool:
        """`send()` until it succeeds, the way WeCom and a brand's client retry; True when accepted."""
        deadline = time.monotonic() + RETRY_FOR
        first = True
        while True:
            if send():
                self.tally.record(action if first else f"{action} accepted on retry", True)
                return True
            # Refused is right once the outage began (also for one sent just before it, answered in it).
            self.tally.record(f"{action} refused", self.tally.phase == "PostgreSQL down")
            first = False
            self.retried[action] += 1
            if time.monotonic() > deadline:
                self.given_up[action] += 1
                return False
            time.sleep(RETRY_EVERY)

    def send_callbacks(self, spare: list[str]) -> None:
        for ext in spare:
            if self.stop.is_set():
                return
            if self.with_retries("callback", lambda ext=ext: callback_send(self.base, add_event(ext), timeout=15)):
                self.callbacks.append(ext)
            time.sleep(0.2)

    def send_event_batches(self) -> None:
        while not self.stop.is_set():
            ext = f"wmPGEV{secrets.token_hex(6)}"
            sent: list[str] = []

            def batch(ext=ext, sent=sent) -> bool:
                event_id, status = event_batch_send(self.base, self.api_key, ext)
                sent.append(event_id)
                return status == 200

            if self.with_retries("event batch", batch):
                self.events.append(sent[-1])
            time.sleep(0.2)


def main(base: str, api_key: str, down: int) -> int:
    drill = Drill(base, api_key)
    session, externals = guide_setup(base)
    spare = [f"wmPG{secrets.token_hex(6)}" for _ in range(SPARE_CUSTOMERS)]
    for ext in spare:
        sim.follow_add(userid=GUIDE, external_userid=ext)
    threads = [threading.Thread(target=drill.pages, args=(session, externals)) for _ in range(2)]
    threads.append(threading.Thread(target=drill.send_callbacks, args=(spare,)))
    threads.append(threading.Thread(target=drill.send_event_batches))
    for thread in threads:
        thread.start()
    time.sleep(PHASE_SECONDS)
    drill.tally.phase = "PostgreSQL down"
    pg_ctl("stop", "-m", "fast", "-w")
    print(f"{time.strftime('%H:%M:%S')} PostgreSQL stopped (fast: sessions ended, in-flight transactions rolled back)")
    time.sleep(down)
    pg_ctl("start", "-w", "-l", os.path.join(os.environ["PGDATA"], "..", "pg.log"))
    up = time.monotonic()
    print(f"{time.strftime('%H:%M:%S')} PostgreSQL started")
    drill.tally.phase = "after"
    first_page = None
    while first_page is None and time.monotonic() - up < 30:
        if session.get(f"{base}/sidebar/today/", timeout=15).status_code == 200:
            first_page = time.monotonic() - up
        else:
            time.sleep(0.2)
    time.sleep(PHASE_SECONDS)
    drill.stop.set()
    for thread in threads:
        thread.join()
    failed = drill.tally.report()
    for phase, statuses in drill.page_statuses.items():
        print(f"{phase}: page answers {dict(statuses)}")
    print(f"first page served {first_page:.1f} s after PostgreSQL was up (no restart of the app)" if first_page else "")
    print(f"refusals retried: {dict(drill.retried)}; given up: {dict(drill.given_up)}")

    connection.close()  # this process's own connection died with the server
    lost = settle(drill.callbacks, drill.events, timeout=SETTLE_TIMEOUT, since="PostgreSQL came back")
    rows = CallbackInbox.objects.filter(external_userid__in=drill.callbacks).count()
    stored_events = Event.objects.filter(payload__product="修护精华液 30ml", dedupe_key__startswith="api:mp:").count()
    extra = (rows - len(drill.callbacks)) + (stored_events - len(drill.events))
    print(
        f"inbox rows {rows} for {len(drill.callbacks)} accepted callbacks; API events stored {stored_events} "
        f"for {len(drill.events)} accepted batches (more would be a write answered as failed)"
    )
    bad = failed or lost or extra or sum(drill.given_up.values()) or first_page is None
    print("drill:", "FAILED" if bad else "passed", f"({failed} failed requests, {lost} lost, {extra} unaccounted)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
