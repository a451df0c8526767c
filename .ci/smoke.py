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
    check(path, requests.get(base + path, timeout=10), 200, 401, 403)

# A guide signs in through the simulated OAuth and opens one of their customers.
session = requests.Session()
chat = session.get(f"{base}/dev/chat/", timeout=10)
guide = external = None
for userid in re.findall(r'<option value="([^"]+)"', chat.text):
    listing = session.get(f"{base}/dev/chat/", params={"userid": userid}, timeout=10)
    found = re.search(r'data-external-userid="([^"]+)"', listing.text)
    if found:
        guide, external = userid, found.group(1)
        break
if guide:
    session.cookies.set("sim_userid", guide)
    shell = check(f"sidebar sign-in as {guide}", session.get(f"{base}/sidebar/", timeout=10), 200)
    if "bootstrap" not in shell.text:
        failures.append("the sidebar shell did not load its bootstrap script")
    portrait = check("portrait", session.get(f"{base}/sidebar/c/{external}/", timeout=10), 200)
    check("timeline", session.get(f"{base}/sidebar/c/{external}/timeline/", timeout=10), 200)
    check("someone else's customer is hidden", session.get(f"{base}/sidebar/c/not-a-customer/", timeout=10), 404)
else:
    failures.append("no guide with customers in /dev/chat/")

print("smoke:", "FAILED " + ", ".join(failures) if failures else "all passed")
sys.exit(1 if failures else 0)
