"""The deploy stage's checks (.ci/deploy-stage): against gunicorn, a real Celery worker and beat.

Sends what WeCom and a brand's system send — a signed, encrypted callback and an event batch — each with
its own request id, then waits until the worker has processed both (database state and the worker's
log), and reads /readyz and /metrics (the web's and the worker's).

    python .ci/deploy_check.py <base url> <api key> <worker log> <worker metrics url>
"""

import datetime as dt
import os
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import django
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scrm.settings")
django.setup()

from scrm.customers.models import Event, FollowRelation  # noqa: E402
from scrm.wecom.models import CallbackInbox  # noqa: E402
from scrm.wecom.simulator import services as sim  # noqa: E402
from scrm.wecom.simulator.callbacks import callback_build, contact_event  # noqa: E402

TIMEOUT = 45
GUIDE, CUSTOMER = "ci_deploy_guide", f"wmCI{secrets.token_hex(6)}"


def wait_for(what: str, check) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if check():
            print(f"ok: {what}")
            return
        time.sleep(0.3)
    sys.exit(f"FAILED: {what} within {TIMEOUT} s")


def main(base: str, api_key: str, worker_log: str, worker_metrics: str) -> None:
    log = Path(worker_log)
    # WeCom's side (the simulator, served by the same gunicorn): a member and the customer who adds them.
    sim.member_add(userid=GUIDE, name="部署检查导购")
    sim.follow_add(userid=GUIDE, external_userid=CUSTOMER)

    callback_rid = f"ci-callback-{secrets.token_hex(8)}"
    query, body = callback_build(contact_event("add_external_contact", userid=GUIDE, external_userid=CUSTOMER))
    response = requests.post(
        f"{base}/wecom/callback/?{urlencode(query)}",
        data=body,
        headers={"Content-Type": "text/xml", "X-Request-ID": callback_rid},
        timeout=10,
    )
    assert response.status_code == 200 and response.text == "success", (response.status_code, response.text)
    assert response.headers["X-Request-ID"] == callback_rid
    row = CallbackInbox.objects.get(external_userid=CUSTOMER)
    wait_for(
        "the worker processed the callback",
        lambda: CallbackInbox.objects.filter(pk=row.pk, status=CallbackInbox.Status.DONE).exists(),
    )
    assert FollowRelation.objects.filter(external_userid=CUSTOMER, staff__userid=GUIDE).exists()
    wait_for(
        "the callback's request id in the worker's log",
        lambda: any(callback_rid in line and f"callback inbox {row.pk}: done" in line for line in _lines(log)),
    )

    events_rid = f"ci-events-{secrets.token_hex(8)}"
    batch = {
        "source": "mp",
        "events": [
            {
                "id": f"{CUSTOMER}-cart",
                "kind": "add_to_cart",
                "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
                "channel": "mp",
                "identities": {"wecom_external_userid": CUSTOMER},
                "payload": {"product": "修护精华液 30ml", "sku": "SKU001"},
            }
        ],
    }
    response = requests.post(
        f"{base}/api/v1/events",
        json=batch,
        headers={"Authorization": f"Api-Key {api_key}", "X-Request-ID": events_rid},
        timeout=10,
    )
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.json()["summary"]["created"] == 1, response.text
    assert Event.objects.filter(dedupe_key=f"api:mp:{CUSTOMER}-cart").exists()
    # The batch queued 今日's recompute for the customer: the worker ran it under the batch's request id.
    wait_for(
        "the worker ran the event batch's task",
        lambda: any(events_rid in line and "refresh_reminders" in line and "succeeded" in line for line in _lines(log)),
    )

    ready = requests.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    print("ok: /readyz", ready.json())

    token = os.environ["METRICS_TOKEN"]
    assert requests.get(f"{base}/metrics", timeout=10).status_code == 403
    metrics = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10).text
    for expected in (
        'scrm_http_request_duration_seconds_count{method="POST",status="2xx",view="wecom:callback"}',
        'scrm_backlog_pending{queue="callback_inbox"} 0.0',
        'scrm_celery_queue_length{queue="fast"}',
    ):
        assert expected in metrics, expected
    print("ok: web /metrics")
    worker = requests.get(worker_metrics, timeout=10).text
    assert 'scrm_wecom_api_calls_total{endpoint="externalcontact/get",errcode="0"}' in worker, worker[:2000]
    print("ok: worker /metrics")


def _lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines() if path.exists() else []


if __name__ == "__main__":
    main(*sys.argv[1:5])
