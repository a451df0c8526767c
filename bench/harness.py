"""Shared bench plumbing: serve the app with gunicorn and time HTTP requests against it.

Benchmarks print figures; they never assert. Each one measures a trivial baseline view in the
same run so ratios stay meaningful on a busy or slow machine.

Wall-clock p95 on a shared 2-core box swings 2x with load; the CPU the gunicorn workers themselves
spend per request does not (#17). So `measure` also reads the workers' utime + stime from
/proc/<pid>/stat before and after its timed rounds and reports worker CPU ms per request, and
`report` prints the load average. `floors()` times a bare Django view (no middleware, see
bench/bench_wsgi.py) and `/sidebar/ping/` for the same run.
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


def seed_demo(*, customers: int, events: int, env: dict[str, str]) -> None:
    """The seed_demo brand without console rollups (the sidebar benchmarks time the sidebar only).
    Demo data is a dev tool: seed_demo runs only with DEBUG on, whatever the served settings."""
    started = time.monotonic()
    args = ["--customers", str(customers), "--events", str(events), "--rollup-days", "0"]
    manage("seed_demo", *args, env={**env, "DEBUG": "true"})
    print(f"seeded demo customers in {time.monotonic() - started:.0f} s")


def django_setup(env: dict[str, str]) -> None:
    """Use the ORM in this process (to seed or pick ids) with the same settings as the server."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scrm.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Server(str):
    """The base URL of a running gunicorn, which also knows its master's pid."""

    pid: int

    def worker_pids(self) -> list[int]:
        pids = []
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            pids += [int(p) for p in (task / "children").read_text().split()]
        return pids

    def worker_cpu_seconds(self) -> dict[int, float]:
        """utime + stime of each worker (fields 14 and 15 of /proc/<pid>/stat, after the comm field)."""
        times = {}
        for pid in self.worker_pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            times[pid] = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        return times


_server: Server | None = None  # the gunicorn being timed; measure() reads its workers' CPU


@contextmanager
def gunicorn(env: dict[str, str], port: int = 8899, workers: int = 2, threads: int = 1):
    global _server
    # Pages name static files through collectstatic's manifest, as in production.
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "bench_wsgi:application", "--pythonpath", str(ROOT / "bench"),
            "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
        ],
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    base = Server(f"http://127.0.0.1:{port}")
    base.pid = proc.pid
    _server = base
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still booting
                time.sleep(0.1)
        yield base
    finally:
        _server = None
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def _cpu_ms_per_request(before: dict[int, float], after: dict[int, float], requests_made: int) -> float | None:
    if set(before) != set(after):  # a worker was restarted mid-run: its CPU cannot be attributed
        return None
    return sum(after[pid] - before[pid] for pid in after) * 1000 / requests_made


def measure(
    session: requests.Session, urls: list[str], *, rounds: int, warmup: int = 20, headers: dict | None = None
) -> dict[str, float]:
    """Time GETs cycling over urls (with extra headers, e.g. htmx's); every answer must be 200.
    With a server from `gunicorn()` running, also the workers' CPU ms per request over the timed rounds."""
    for url in urls[:warmup] or urls:
        session.get(url, headers=headers)
    timings = []
    cpu_before = _server.worker_cpu_seconds() if _server else None
    for i in range(rounds):
        url = urls[i % len(urls)]
        start = time.perf_counter()
        response = session.get(url, headers=headers)
        timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    cpu = _cpu_ms_per_request(cpu_before, _server.worker_cpu_seconds(), rounds) if _server else None
    timings.sort()
    return {
        "p50": statistics.median(timings),
        "p95": timings[int(len(timings) * 0.95) - 1],
        "n": len(timings),
        "cpu": cpu,
        "bytes": len(response.content),
    }


def floors(session: requests.Session, base: str, *, rounds: int) -> dict[str, dict[str, float]]:
    """The two floors of a run: Django alone (no middleware) and the product's middleware doing nothing."""
    return {
        "bare Django view": measure(session, [f"{base}/bench/bare/"], rounds=rounds),
        "ping (sidebar)": measure(session, [f"{base}/sidebar/ping/"], rounds=rounds),
    }


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(rows: dict[str, dict[str, float]], baseline: str) -> None:
    base = rows[baseline]["p95"]
    print(f"load average (1/5/15 min): {load_average()}")
    print(f"{'view':<28}{'p50 ms':>10}{'p95 ms':>10}{'CPU ms/req':>12}{'p95 / baseline':>16}")
    for name, row in rows.items():
        cpu = "-" if row.get("cpu") is None else f"{row['cpu']:.2f}"
        print(f"{name:<28}{row['p50']:>10.2f}{row['p95']:>10.2f}{cpu:>12}{row['p95'] / base:>15.1f}x")


def ensure_database(url: str) -> None:
    """Create a bench database on first use (CREATE DATABASE cannot run inside a transaction)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * q) - 1)] if values else float("nan")


class SqlTimer:
    """A connection.execute_wrapper that counts statements and their wall time (in-process benches)."""

    def __init__(self):
        self.queries, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its live descendants (gunicorn's workers, a prefork pool)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += sum(cpu_seconds(int(child)) for child in (task / "children").read_text().split())
    except (FileNotFoundError, ProcessLookupError):  # exited meanwhile
        return 0.0
    return total


def process_stop(proc: subprocess.Popen, *, timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def simulated_wecom_env(*, site_url: str, sim_url: str, faults_file: str) -> dict[str, str]:
    """Settings for a product that talks to the WeCom simulator served at `sim_url` (its latency and faults
    read from `faults_file`), with the callback secrets the benches sign with."""
    return {
        "WECOM_SIMULATOR": "true",
        "WECOM_SIMULATOR_UNSAFE_IN_PRODUCTION": "yes-i-know",
        "WECOM_CALLBACK_TOKEN": "benchToken",
        "WECOM_CALLBACK_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "SITE_URL": site_url,
        "WECOM_API_BASE": f"{sim_url}/_wecom/cgi-bin/",
        "WECOM_SIM_FAULTS_FILE": faults_file,
        "LOG_LEVEL": "WARNING",
    }
