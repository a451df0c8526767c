"""What the fault drills' drivers share (bench/load/drill_*.py): Django set up against the drill's private
database, a tally of requests per phase, WeCom callbacks and API event batches sent the way their senders
do, and the accounting afterwards — every accepted callback processed, every accepted event stored, and
nothing done twice (timeline events, welcome messages)."""

import collections
import datetime as dt
import os
import secrets
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import django
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scrm.settings")
django.setup()

from django.db.models import Count  # noqa: E402

from scrm.customers.models import Event  # noqa: E402
from scrm.livecodes.models import WelcomeSend  # noqa: E402
from scrm.wecom.models import CallbackInbox  # noqa: E402
from scrm.wecom.simulator import services as sim  # noqa: E402
from scrm.wecom.simulator.callbacks import callback_build, contact_event  # noqa: E402
from scrm.wecom.simulator.models import SimChatMessage  # noqa: E402

GUIDE = "drill_guide"


class Tally:
    """Requests per phase, ok or FAILED; thread-safe."""

    def __init__(self) -> None:
        self.results: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.phase = "before"
        self.lock = threading.Lock()

    def record(self, action: str, ok: bool) -> None:
        with self.lock:
            self.results[self.phase][f"{action} {'ok' if ok else 'FAILED'}"] += 1

    def report(self) -> int:
        """Print each phase; the number of failed requests."""
        failed = 0
        for phase, counts in self.results.items():
            print(f"{phase}: " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items())))
            failed += sum(n for name, n in counts.items() if name.endswith("FAILED"))
        return failed


def callback_send(base: str, event: dict, *, timeout: float = 15) -> bool:
    """POST one signed, encrypted callback; True when the product answered `success` (WeCom's test)."""
    query, body = callback_build(event)
    try:
        response = requests.post(f"{base}/wecom/callback/?{urlencode(query)}", data=body, timeout=timeout)
    except requests.RequestException:
        return False
    return response.status_code == 200 and response.text == "success"


def add_event(ext: str, **extra) -> dict:
    return contact_event("add_external_contact", userid=GUIDE, external_userid=ext, **extra)


def event_batch_send(base: str, api_key: str, ext: str, *, timeout: float = 15) -> tuple[str, int]:
    """POST a one-event batch for customer `ext`; (event id, HTTP status, 0 when no answer)."""
    event_id = f"drill-{secrets.token_hex(6)}"
    batch = {
        "source": "mp",
        "events": [
            {
                "id": event_id,
                "kind": "mp_product_view",
                "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
                "channel": "mp",
                "identities": {"wecom_external_userid": ext},
                "payload": {"product": "修护精华液 30ml"},
            }
        ],
    }
    headers = {"Authorization": f"Api-Key {api_key}"}
    try:
        response = requests.post(f"{base}/api/v1/events", json=batch, headers=headers, timeout=timeout)
    except requests.RequestException:
        return event_id, 0
    return event_id, response.status_code


def guide_setup(base: str, customers: int = 10) -> tuple[requests.Session, list[str]]:
    """The guide in WeCom with `customers` friends, processed (so the guide is staff), signed in."""
    sim.member_add(userid=GUIDE, name="演练导购")
    externals = [f"wmDRILL{i:02d}{secrets.token_hex(4)}" for i in range(customers)]
    for ext in externals:
        sim.follow_add(userid=GUIDE, external_userid=ext)
        assert callback_send(base, add_event(ext)), "the first callbacks were refused"
    deadline = time.monotonic() + 60
    while CallbackInbox.objects.filter(external_userid__in=externals).exclude(status="done").exists():
        assert time.monotonic() < deadline, "the worker did not process the first callbacks"
        time.sleep(0.5)
    session = requests.Session()
    session.cookies.set("sim_userid", GUIDE)
    assert session.get(f"{base}/sidebar/", timeout=10).status_code == 200
    return session, externals


def pending(callbacks: list[str], events: list[str]) -> tuple[int, int]:
    """(callbacks not processed yet, events not stored yet)."""
    waiting = CallbackInbox.objects.filter(external_userid__in=callbacks).exclude(status="done").count()
    stored = Event.objects.filter(dedupe_key__in=[f"api:mp:{e}" for e in events]).count()
    return waiting, len(events) - stored


def settle(callbacks: list[str], events: list[str], *, timeout: float, since: str) -> int:
    """Wait until everything accepted is processed; print the accounting; the number lost."""
    started = time.monotonic()
    while time.monotonic() - started < timeout and any(pending(callbacks, events)):
        time.sleep(2)
    waiting, missing = pending(callbacks, events)
    print(
        f"accounted for {time.monotonic() - started:.0f} s after {since}: "
        f"callbacks processed {len(callbacks) - waiting}/{len(callbacks)}, "
        f"events stored {len(events) - missing}/{len(events)}"
    )
    for row in CallbackInbox.objects.filter(external_userid__in=callbacks).exclude(status="done")[:5]:
        print(f"  not processed: {row.external_userid} {row.status} attempts {row.attempts} {row.last_error}")
    return waiting + missing


def duplicates(callbacks: list[str]) -> int:
    """Anything done twice for these customers: friend-added timeline events, welcome messages WeCom
    delivered (the simulator's chat). Prints what it checked; the count."""
    twice = {
        "friend_added events": Event.objects.filter(kind="friend_added", payload__external_userid__in=callbacks)
        .values("payload__external_userid")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "welcome messages delivered": SimChatMessage.objects.filter(msgtype="welcome", external_userid__in=callbacks)
        .values("external_userid")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
    }
    welcomes = collections.Counter(
        WelcomeSend.objects.filter(external_userid__in=callbacks).values_list("status", flat=True)
    )
    delivered = SimChatMessage.objects.filter(msgtype="welcome", external_userid__in=callbacks).count()
    print("done twice: " + ", ".join(f"{name} {n}" for name, n in twice.items()))
    print(f"welcomes: {dict(welcomes)}, delivered by WeCom {delivered}")
    return sum(twice.values())
