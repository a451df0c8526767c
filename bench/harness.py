"""Shared bench plumbing: serve the app with gunicorn and time HTTP requests against it.

Benchmarks print figures; they never assert. Each one measures a trivial baseline view in the
same run so ratios stay meaningful on a busy or slow machine.
"""

import os
import signal
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/scrm_bench"


def bench_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DB)
    env.update({"DEBUG": "false", "SECRET_KEY": "bench-secret", "ALLOWED_HOSTS": "127.0.0.1,localhost"})
    env.setdefault("WECOM_SIMULATOR", "false")
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)


def django_setup(env: dict[str, str]) -> None:
    """Use the ORM in this process (to seed or pick ids) with the same settings as the server."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scrm.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


@contextmanager
def gunicorn(env: dict[str, str], port: int = 8899, workers: int = 2):
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "scrm.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
            "--log-level", "warning",
        ],
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still booting
                time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def measure(
    session: requests.Session, urls: list[str], *, rounds: int, warmup: int = 20, headers: dict | None = None
) -> dict[str, float]:
    """Time GETs cycling over urls (with extra headers, e.g. htmx's); every answer must be 200."""
    for url in urls[:warmup] or urls:
        session.get(url, headers=headers)
    timings = []
    for i in range(rounds):
        url = urls[i % len(urls)]
        start = time.perf_counter()
        response = session.get(url, headers=headers)
        timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    timings.sort()
    return {
        "p50": statistics.median(timings),
        "p95": timings[int(len(timings) * 0.95) - 1],
        "n": len(timings),
    }


def report(rows: dict[str, dict[str, float]], baseline: str) -> None:
    base = rows[baseline]["p95"]
    print(f"{'view':<28}{'p50 ms':>10}{'p95 ms':>10}{'p95 / baseline':>16}")
    for name, row in rows.items():
        print(f"{name:<28}{row['p50']:>10.2f}{row['p95']:>10.2f}{row['p95'] / base:>15.1f}x")
