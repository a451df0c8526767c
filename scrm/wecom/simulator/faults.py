"""Dev-only fault switch for the simulated WeCom API (#13's drills): answer slowly, with an HTTP 5xx, with
an errcode (45009 rate limit, -1 busy) or with a body that is not JSON.

A drill flips faults while gunicorn runs, so the switch is a JSON file re-read on every call, named by
WECOM_SIM_FAULTS_FILE (no setting or no file: no faults), e.g.
    {"delay": 3, "http_status": 502, "errcode": 45009, "bad_json": true, "rate": 0.5, "paths": ["user/get"]}
`delay` (seconds; with `delay_max`, a uniform draw between the two: WeCom's ordinary 50–150 ms is
{"delay": 0.05, "delay_max": 0.15}) comes first, then at most one of http_status, errcode, bad_json;
`rate` is the share of calls hit (default all), `paths` limits the faults to those endpoints (default
every endpoint).
"""

import json
import random
import time
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse, JsonResponse


def fault_spec() -> dict:
    """The faults in force now; {} when none (unset, missing or unreadable file)."""
    name = getattr(settings, "WECOM_SIM_FAULTS_FILE", "")
    if not name:
        return {}
    try:
        spec = json.loads(Path(name).read_text())
    except (OSError, ValueError):
        return {}
    return spec if isinstance(spec, dict) else {}


def fault_answer(*, endpoint: str) -> HttpResponse | None:
    """The faulty answer for this call of `endpoint`, or None to answer normally (after any delay)."""
    spec = fault_spec()
    if not spec or (spec.get("paths") and endpoint not in spec["paths"]):
        return None
    if random.random() >= float(spec.get("rate", 1)):
        return None
    delay = float(spec.get("delay", 0))
    time.sleep(min(random.uniform(delay, float(spec["delay_max"])) if spec.get("delay_max") else delay, 60))
    if spec.get("http_status"):
        # What a proxy in front of WeCom answers when WeCom is down: an HTML error page.
        status = int(spec["http_status"])
        return HttpResponse(f"<html><body>{status} Bad Gateway</body></html>", status=status, content_type="text/html")
    if spec.get("errcode"):
        return JsonResponse({"errcode": int(spec["errcode"]), "errmsg": "simulated fault"})
    if spec.get("bad_json"):
        return HttpResponse(b'{"errcode": 0, "errmsg": "ok", "trunc', content_type="application/json")
    return None
