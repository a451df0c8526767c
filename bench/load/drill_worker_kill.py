"""Driver of bench/load/drill-worker-kill: the Celery worker is killed with SIGKILL (an OOM kill, a node
lost) again and again while customers scan a 渠道活码 (add callbacks whose processing and welcome call
WeCom), guides tag customers (mark_tag pushes) and a brand pushes event batches. Alternately one pool
process is killed (what the OOM killer picks) and the whole worker with its pool (a lost node); the
supervisor's restart brings it back. Afterwards every callback must be processed exactly once, every tag
push done, every event stored, and nothing done twice: no second friend_added event, no second welcome
delivered by WeCom. Exits non-zero on a failed request, a loss or a duplicate.

    python bench/load/drill_worker_kill.py <base url> <api key> <kills>
"""

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.db import transaction
from drill_kit import (
    GUIDE,
    Tally,
    callback_send,
    duplicates,
    event_batch_send,
    guide_setup,
    settle,
    sim,
)

from scrm.customers.models import Customer, Tag
from scrm.customers.services import customer_tag_add
from scrm.livecodes.models import LiveCode
from scrm.livecodes.services import CodeInput, livecode_create
from scrm.org.models import Staff
from scrm.wecom import api
from scrm.wecom import contacts as wecom_contacts
from scrm.wecom.models import TagOutbox
from scrm.wecom.simulator.models import SimFollowUser

KILL_EVERY = 8  # seconds the worker works between its restart and the next kill
SETTLE_TIMEOUT = 200  # work whose task died with the worker waits for the minute sweeps
TAGS = 8


def livecode_setup() -> str:
    """A single-guide live code with a welcome text, synced to WeCom (add_contact_way by the worker)."""
    staff = Staff.objects.get(userid=GUIDE)
    data = CodeInput(
        name="演练活码",
        channel_group="counter",
        store=None,
        spread_mode="single",
        guides=[staff],
        backups=[],
        welcome_text="您好，我是您的专属导购",
    )
    code = livecode_create(data=data, created_by=None)
    deadline = time.monotonic() + 60
    while not LiveCode.objects.get(pk=code.pk).config_id:
        assert time.monotonic() < deadline, "the worker did not sync the live code"
        time.sleep(0.5)
    return LiveCode.objects.get(pk=code.pk).config_id


def tags_setup() -> list[Tag]:
    group = sim.tag_group_add(name="演练标签", tags=[f"演练{i}" for i in range(TAGS)])
    wecom_contacts.corp_tags_apply(groups=api.corp_tag_list())
    return list(Tag.objects.filter(wecom_tag_id__in=group.tags.values_list("tag_id", flat=True)))


class Load:
    def __init__(self, base: str, api_key: str, tally: Tally) -> None:
        self.base, self.api_key, self.tally = base, api_key, tally
        self.callbacks: list[str] = []
        self.events: list[str] = []
        self.tag_rows: list[int] = []
        self.stop = threading.Event()

    def scans(self, config_id: str) -> None:
        while not self.stop.is_set():
            scan = sim.contact_way_scan(config_id=config_id, send=False)
            ok = callback_send(self.base, scan.event)
            self.tally.record("callback", ok)
            if ok:
                self.callbacks.append(scan.external_userid)
            event_id, status = event_batch_send(self.base, self.api_key, scan.external_userid)
            self.tally.record("event batch", status == 200)
            if status == 200:
                self.events.append(event_id)
            time.sleep(0.1)

    def tag_edits(self, externals: list[str], tags: list[Tag]) -> None:
        staff = Staff.objects.get(userid=GUIDE)
        customers = [Customer.objects.get(identities__value=ext) for ext in externals]
        for tag, customer in itertools.product(tags, customers):
            if self.stop.is_set():
                return
            before = TagOutbox.objects.count()
            with transaction.atomic():
                customer_tag_add(customer=customer, tag=tag, staff=staff)
            self.tally.record("tag edit", TagOutbox.objects.count() == before + 1)
            time.sleep(0.5)


def worker_pids() -> tuple[int, list[int]]:
    main = int(Path(os.environ["DRILL_WORK"], "worker.pid").read_text())
    found = subprocess.run(["pgrep", "-P", str(main)], capture_output=True, text=True).stdout.split()
    return main, [int(p) for p in found]


def worker_kill(round_no: int) -> str:
    """SIGKILL a pool process (even rounds) or the whole worker, once it is up and working again."""
    deadline = time.monotonic() + 60
    while len(worker_pids()[1]) < 2:  # the supervisor's restart: 5 s, then the worker's own start
        assert time.monotonic() < deadline, "the worker did not come back"
        time.sleep(0.5)
    time.sleep(KILL_EVERY)
    main, children = worker_pids()
    if round_no % 2 == 0:
        os.kill(children[0], signal.SIGKILL)
        return f"pool process {children[0]}"
    for pid in [main, *children]:
        os.kill(pid, signal.SIGKILL)
    return f"worker {main} and its {len(children)} pool processes"


def main(base: str, api_key: str, kills: int) -> int:
    tally = Tally()
    _session, externals = guide_setup(base)
    config_id = livecode_setup()
    tags = tags_setup()
    load = Load(base, api_key, tally)
    threads = [
        threading.Thread(target=load.scans, args=(config_id,)),
        threading.Thread(target=load.tag_edits, args=(externals, tags)),
    ]
    for thread in threads:
        thread.start()
    tally.phase = "kills"
    for round_no in range(kills):
        print(f"{time.strftime('%H:%M:%S')} SIGKILL {worker_kill(round_no)}", flush=True)
    time.sleep(KILL_EVERY)
    tally.phase = "after"
    time.sleep(KILL_EVERY)
    load.stop.set()
    for thread in threads:
        thread.join()
    failed = tally.report()

    lost = settle(load.callbacks, load.events, timeout=SETTLE_TIMEOUT, since="the last kill")
    deadline = time.monotonic() + 90
    while TagOutbox.objects.exclude(status="done").exists() and time.monotonic() < deadline:
        time.sleep(2)
    undone = TagOutbox.objects.exclude(status="done").count()
    marked = sum(
        len(set(f.tags) & {t.wecom_tag_id for t in tags})
        for f in SimFollowUser.objects.filter(member__userid=GUIDE, contact__external_userid__in=externals)
    )
    pushes = TagOutbox.objects.count()
    print(f"tag pushes done {pushes - undone}/{pushes}; tags WeCom holds for the edited customers {marked}")
    lost += undone
    twice = duplicates(load.callbacks)
    bad = failed or lost or twice
    print("drill:", "FAILED" if bad else "passed", f"({failed} failed requests, {lost} lost, {twice} done twice)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
