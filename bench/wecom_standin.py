"""A lightweight stand-in for WeCom's server API, for bench/welcome.py only.

    .venv/bin/python bench/wecom_standin.py --port 8909 [--latency 50,150]

In production WeCom's CPU is not ours: its answers cost us a network round trip, not cores. The full
Django simulator on the bench's own gunicorn costs three requests of Django and PostgreSQL per add,
on the same two cores as the product. This process answers only what the welcome bench needs, from
memory, after a random delay in [latency] ms (a sleep, no CPU), with WeCom's JSON shapes and errcodes:

- gettoken; externalcontact/get (40096 for a contact the driver did not register);
- externalcontact/send_welcome_msg: 41051 when the WelcomeCode is unknown, already used or older than
  20 s, as WeCom refuses it;
- externalcontact/add_contact_way (the bench's code), and an `ok` for any other call (none expected:
  the bench's code has no tags; /_bench/stats counts every path so a surprise shows).

The driver registers each second of scans (contacts and WelcomeCodes) with POST /_bench/register.
"""

import argparse
import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

WELCOME_CODE_TTL = 20.0
# A 1×1 PNG, so the live code's QR fetch after add_contact_way succeeds.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a49444154789c6360"
    "00000002000148afa4710000000049454e44ae426082"
)

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=8909)
parser.add_argument("--latency", default="50,150", help="min,max ms of each answer (WeCom's round trip)")
args = parser.parse_args()
LOW, HIGH = (float(x) / 1000 for x in args.latency.split(","))

lock = threading.Lock()
contacts: dict[str, dict] = {}  # external_userid → {"userid", "state", "name", "createtime"}
welcome_codes: dict[str, list] = {}  # code → [issued (epoch s), used]
calls: Counter = Counter()
results: Counter = Counter()


def ok(**data) -> dict:
    return {"errcode": 0, "errmsg": "ok", **data}


def error(code: int, message: str) -> dict:
    return {"errcode": code, "errmsg": message}


def contact_get(query: dict, body: dict) -> dict:
    ext = (query.get("external_userid") or [""])[0]
    contact = contacts.get(ext)
    if contact is None:
        return error(40096, "invalid external userid")
    return ok(
        external_contact={"external_userid": ext, "name": contact["name"], "type": 1, "gender": 0, "avatar": ""},
        follow_user=[
            {
                "userid": contact["userid"],
                "remark": "",
                "description": "",
                "createtime": contact["createtime"],
                "remark_mobiles": [],
                "add_way": 1,
                "oper_userid": contact["userid"],
                "state": contact["state"],
                "tags": [],
            }
        ],
        next_cursor="",
    )


def welcome_send(query: dict, body: dict) -> dict:
    with lock:
        entry = welcome_codes.get(body.get("welcome_code") or "")
        if entry is None or entry[1] or entry[0] + WELCOME_CODE_TTL < time.time():
            return error(41051, "invalid welcome_code")
        entry[1] = True
    if not body.get("text") and not body.get("attachments"):
        return error(40058, "text or attachments required")
    return ok()


def register(query: dict, body: dict) -> dict:
    with lock:
        for ext, userid, state, name, createtime in body.get("contacts", []):
            contacts[ext] = {"userid": userid, "state": state, "name": name, "createtime": createtime}
        for code, issued in body.get("codes", []):
            welcome_codes[code] = [issued, False]
    return ok()


ROUTES = {
    "/cgi-bin/gettoken": lambda q, b: ok(access_token="standin-token", expires_in=7200),
    "/cgi-bin/externalcontact/get": contact_get,
    "/cgi-bin/externalcontact/send_welcome_msg": welcome_send,
    "/cgi-bin/externalcontact/add_contact_way": lambda q, b: ok(
        config_id=f"standin{int(time.time() * 1000)}", qr_code=f"http://127.0.0.1:{args.port}/qr.png"
    ),
    "/cgi-bin/externalcontact/get_corp_tag_list": lambda q, b: ok(tag_group=[]),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the product's requests sessions expect
    # One write per answer, sent at once: headers and body in two Nagle-delayed packets cost 40 ms of
    # delayed ACK per POST here, which WeCom's servers do not add.
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, *_args) -> None:  # quiet: the bench prints its own figures
        pass

    def _answer(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path == "/qr.png":
            return self._answer(200, PNG, "image/png")
        if url.path == "/_bench/stats":
            data = {"calls": dict(calls), "results": dict(results)}
            return self._answer(200, json.dumps(data).encode(), "application/json")
        body = json.loads(raw) if raw else {}
        query = parse_qs(url.query)
        if url.path == "/_bench/register":
            return self._answer(200, json.dumps(register(query, body)).encode(), "application/json")
        time.sleep(random.uniform(LOW, HIGH))  # WeCom's round trip: waiting, not CPU
        handler = ROUTES.get(url.path, lambda q, b: ok())
        result = handler(query, body)
        name = url.path.removeprefix("/cgi-bin/")
        with lock:
            calls[name] += 1
            results[f"{name} {result['errcode']}"] += 1
        self._answer(200, json.dumps(result, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    do_GET = do_POST = _handle


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
server.daemon_threads = True
print(f"WeCom stand-in on 127.0.0.1:{args.port}, latency {args.latency} ms", flush=True)
server.serve_forever()
