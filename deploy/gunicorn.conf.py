"""gunicorn's configuration for the web process (the Docker image's CMD and deploy/systemd/scrm-web.service):

    gunicorn -c deploy/gunicorn.conf.py scrm.wsgi

Every value can be overridden by an environment variable of the same name in upper case with a GUNICORN_
prefix (below), except FORWARDED_ALLOW_IPS, which gunicorn itself reads.
"""

import multiprocessing
import os
import shutil
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


bind = _env("GUNICORN_BIND", "0.0.0.0:8000")
# Pages and the API are short database-bound requests; a few sync workers per core. WeCom is never
# waited on inside a request except OAuth sign-in and the cached JS-SDK ticket.
workers = int(_env("GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(_env("GUNICORN_THREADS", "1"))
# Under nginx's proxy_read_timeout (60 s), so gunicorn, not nginx, decides a request took too long.
timeout = int(_env("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Longer than nginx's upstream keepalive, so nginx always closes first.
keepalive = 75
# A worker is replaced after this many requests: a slow leak never grows for ever.
max_requests = int(_env("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# Which proxies may set X-Forwarded-For / -Proto: nginx on the same host or the load balancer's subnet,
# e.g. FORWARDED_ALLOW_IPS=10.0.0.0/8 (gunicorn reads the variable itself; "*" only on a private network).
forwarded_allow_ips = _env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Heartbeat files on tmpfs: a container's overlay filesystem can stall them and get workers killed.
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"

# Access log on stdout with the time taken and the request id (from the load balancer, or ours).
accesslog = "-"
errorlog = "-"
loglevel = _env("GUNICORN_LOG_LEVEL", "info")
if _env("LOG_FORMAT", "text") == "json":
    access_log_format = (
        '{"time": "%(t)s", "level": "INFO", "logger": "gunicorn.access", "request_id": "%({x-request-id}o)s", '
        '"remote": "%(h)s", "method": "%(m)s", "path": "%(U)s", "status": %(s)s, "bytes": "%(B)s", '
        '"seconds": %(L)s}'
    )
else:
    access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(B)s %(L)ss [%({x-request-id}o)s] "%(a)s"'


def on_starting(server):
    # prometheus_client's multiprocess mode: start from an empty directory, one file per worker.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
