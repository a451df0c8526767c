"""Smoke test of a running demo server: health, the main pages, and a guide's sign-in to a portrait."""

import re
import sys

import requests

base = sys.argv[1].rstrip("/")
failures = []


def check(label, response, *expected):
    ok = response.status_code in expected
    print(f"{'ok ' if ok else 'BAD'} {response.status_code} {label}")
    if not ok:
        failures.append(label)
    return response


check("/healthz", requests.get(f"{base}/healthz", timeout=10), 200)
for path in ["/dev/chat/", "/console/login/", "/admin/login/", "/api/v1/schema/"]:
    check(path, requests.get(base + path, timeout=10), 200, 403)

# A guide signs in through the simulated OAuth and opens one of their customers.
session = requests.Session()
chat = session.get(f"{base}/dev/chat/", timeout=10)
userid = re.search(r'data-userid="([^"]+)"', chat.text)
if userid:
    session.cookies.set("sim_userid", userid.group(1))
    check("sidebar sign-in", session.get(f"{base}/sidebar/", timeout=10), 200)
    customers = session.get(f"{base}/dev/chat/?userid={userid.group(1)}", timeout=10)
    external = re.search(r'data-external-userid="([^"]+)"', customers.text)
    if external:
        check("portrait", session.get(f"{base}/sidebar/c/{external.group(1)}/", timeout=10), 200)
        check("timeline", session.get(f"{base}/sidebar/c/{external.group(1)}/timeline/", timeout=10), 200)
    else:
        failures.append("no customer listed in /dev/chat/")
else:
    failures.append("no guide listed in /dev/chat/")

print("smoke:", "FAILED " + ", ".join(failures) if failures else "all passed")
sys.exit(1 if failures else 0)
