"""Driver of bench/load/drill-wecom-faults: the simulated WeCom answers slowly (3 s), with HTTP 502, with
the rate-limit errcode 45009 and with bodies that are not JSON, one fault after the other, while a guide
opens sidebar pages and WeCom callbacks and event batches flow. Pages must stay fast (they never wait on
WeCom), the callbacks' processing must retry and complete once WeCom is healthy again, and what is failing
must show where an admin looks (/readyz, the inbox's last_error in admin, the worker's log). Exits non-zero
on a failed request, a loss, or a page that waited as long as WeCom did.

    python bench/load/drill_wecom_faults.py <base url> <api key>
"""

import collections
import json
import os
import re
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

import requests
from drill_kit import GUIDE, Tally, add_event, callback_send, event_batch_send, guide_setup, settle, sim

from scrm.wecom.models import CallbackInbox

HEALTHY_SECONDS = 8
FAULT_SECONDS = 15
SLOW = 3.0  # seconds WeCom takes to answer in the slow phase (the client waits up to WECOM_TIMEOUT, 5 s)
FAULTS = {
    "slow (3 s)": {"delay": SLOW},
    "HTTP 502": {"http_status": 502},
    "errcode 45009": {"errcode": 45009},
    "bad JSON": {"bad_json": True},
}
SETTLE_TIMEOUT = 200  # retries wait for the minute sweep (rows older than a minute), up to 5 attempts


class Drill:
    def __init__(self, base: str, api_key: str) -> None:
        self.base, self.api_key = base, api_key
        self.tally = Tally()
        self.timings: dict[str, list[float]] = collections.defaultdict(list)
        self.callbacks: list[str] = []
        self.events: list[str] = []
        self.seen: dict[str, set[str]] = collections.defaultdict(set)  # what an admin sees, per phase
        self.stop = threading.Event()

    def pages(self, session: requests.Session, externals: list[str]) -> None:
        n = 0
        while not self.stop.is_set():
            ext = externals[n % len(externals)]
            n += 1
            for path in (
                f"/sidebar/c/{ext}/",
                f"/sidebar/c/{ext}/timeline/",
                f"/sidebar/c/{ext}/materials/",
                "/sidebar/today/",
            ):
                started = time.perf_counter()
                try:
                    ok = session.get(self.base + path, timeout=15).status_code == 200
                except requests.RequestException:
                    ok = False
                self.timings[self.tally.phase].append(time.perf_counter() - started)
                self.tally.record("page view", ok)

    def callbacks_and_events(self) -> None:
        while not self.stop.is_set():
            ext = f"wmFAULT{secrets.token_hex(6)}"
            sim.follow_add(userid=GUIDE, external_userid=ext)
            ok = callback_send(self.base, add_event(ext))
            self.tally.record("callback", ok)
            if ok:
                self.callbacks.append(ext)
            event_id, status = event_batch_send(self.base, self.api_key, ext)
            self.tally.record("event batch", status == 200)
            if status == 200:
                self.events.append(event_id)
            time.sleep(0.2)

    def admin_view(self) -> None:
        """What /readyz and the inbox's last_error (admin's 回调收件箱) say, sampled every 2 s."""
        while not self.stop.is_set():
            seen = self.seen[self.tally.phase]
            try:
                ready = requests.get(f"{self.base}/readyz", timeout=5)
                pending = ready.json().get("callback_inbox", {}).get("pending", 0)
                seen.add(f"/readyz {ready.status_code}")
                seen.add(f"pending {pending:>4}")
            except (requests.RequestException, ValueError):
                seen.add("/readyz no answer")
            errors = CallbackInbox.objects.filter(status="pending").exclude(last_error="")
            for error in errors.values_list("last_error", flat=True).distinct()[:5]:
                seen.add(f"last_error {error}")
            time.sleep(2)

    def admin_summary(self, phase: str) -> str:
        seen = self.seen[phase]
        pending = sorted(int(s.split()[1]) for s in seen if s.startswith("pending"))
        said = sorted(s for s in seen if not s.startswith("pending"))
        return f"inbox pending {pending[0]}–{pending[-1]}; " * bool(pending) + "; ".join(said)


def faults_set(spec: dict) -> None:
    Path(os.environ["WECOM_SIM_FAULTS_FILE"]).write_text(json.dumps(spec))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] * 1000 if len(values) > 1 else 0.0


def main(base: str, api_key: str) -> int:
    drill = Drill(base, api_key)
    session, externals = guide_setup(base)
    threads = [
        threading.Thread(target=drill.pages, args=(session, externals)),
        threading.Thread(target=drill.callbacks_and_events),
        threading.Thread(target=drill.admin_view),
    ]
    for thread in threads:
        thread.start()
    time.sleep(HEALTHY_SECONDS)
    for name, spec in FAULTS.items():
        drill.tally.phase = name
        faults_set(spec)
        time.sleep(FAULT_SECONDS)
    drill.tally.phase = "healthy again"
    faults_set({})
    time.sleep(HEALTHY_SECONDS)
    drill.stop.set()
    for thread in threads:
        thread.join()
    failed = drill.tally.report()

    slow_pages = 0
    for phase, values in drill.timings.items():
        slow_pages += sum(1 for v in values if v >= SLOW)
        print(
            f"{phase}: pages p50 {statistics.median(values) * 1000:.0f} ms, p95 {p95(values):.0f} ms, "
            f"max {max(values) * 1000:.0f} ms"
        )
        print(f"    admin sees: {drill.admin_summary(phase)}")
    lost = settle(drill.callbacks, drill.events, timeout=SETTLE_TIMEOUT, since="WeCom recovered")
    attempts = collections.Counter(
        CallbackInbox.objects.filter(external_userid__in=drill.callbacks).values_list("attempts", flat=True)
    )
    print(f"callbacks by attempts it took: {dict(sorted(attempts.items()))}")
    log = Path(os.environ["DRILL_WORK"], "worker.log").read_text(errors="replace")
    logged = collections.Counter(re.findall(r"wecom \S+ (?:transient|permanent) error (-?\d+)", log))
    print(f"worker log, WeCom errors by errcode: {dict(logged)}")
    bad = failed or lost or slow_pages
    print(
        "drill:",
        "FAILED" if bad else "passed",
        f"({failed} failed requests, {lost} lost, {slow_pages} pages slower than WeCom's {SLOW:.0f} s)",
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
