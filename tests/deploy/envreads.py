"""Which environment variables the settings (and gunicorn's config) read, found by running them."""

import importlib
import os
import re
import runpy
import sys
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "scrm.settings"  # a package: imported afresh, not run as a file
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _asked_by_a_library() -> bool:
    """Whether the code asking (past os.getenv and this class) is an installed package, not ours."""
    frame = sys._getframe(2)
    while frame and frame.f_code.co_filename in {__file__, os.__file__}:
        frame = frame.f_back
    filename = frame.f_code.co_filename if frame else ""
    return not filename.startswith(str(ROOT)) or f"{os.sep}site-packages{os.sep}" in filename


class RecordingEnviron(dict):
    """os.environ that remembers every name asked for, and which of them a library asked for
    (sentry-sdk, for one, looks up SENTRY_TRACE whenever a scope starts: not a setting of ours)."""

    def __init__(self, values):
        super().__init__(values)
        self.read: set[str] = set()
        self.read_by_libraries: set[str] = set()

    def _record(self, key):
        (self.read_by_libraries if _asked_by_a_library() else self.read).add(key)

    def get(self, key, default=None):
        self._record(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self._record(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._record(key)
        return super().__contains__(key)


def _import_afresh(module: str) -> dict:
    """Import a package and its submodules anew (module-level code runs again), then put back the
    ones this process had loaded, so Django's own settings stay as they were."""

    def ours(name: str) -> bool:
        return name == module or name.startswith(f"{module}.")

    parent = importlib.import_module(module.rpartition(".")[0])
    attr = module.rpartition(".")[2]
    loaded = getattr(parent, attr, None)
    saved = {name: mod for name, mod in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    try:
        return dict(vars(importlib.import_module(module)))
    finally:
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
        if loaded is not None:
            setattr(parent, attr, loaded)


def run_with(path: Path | str, environ: dict[str, str], *, sentry_init=None) -> tuple[dict, set[str]]:
    """Run a settings-like file (or import a settings package by name) under exactly `environ`:
    (its globals, the names it read)."""
    recording = RecordingEnviron(environ)
    # Sentry would hook into this test process: initialising it is only recorded.
    with mock.patch.object(os, "environ", recording), mock.patch("sentry_sdk.init", sentry_init or mock.Mock()):
        namespace = _import_afresh(path) if isinstance(path, str) else runpy.run_path(str(path))
    return namespace, recording.read


def run_reading(path: Path | str, environ: dict[str, str]) -> set[str]:
    return run_with(path, environ)[1]


def settings_reads(tmp_path) -> set[str]:
    """Names read by the settings in dev and in production (branches read different names)."""
    base = {"VAR_DIR": str(tmp_path)}
    production = {
        **base,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "WECOM_SIMULATOR": "false",
        "SENTRY_DSN": "https://key@sentry.example.com/1",
        "STORAGE_BACKEND": "s3",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    demo_server = {
        **base,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "WECOM_SIMULATOR": "true",
        "WECOM_SIMULATOR_UNSAFE_IN_PRODUCTION": "yes-i-know",
        "REDIS_URL": "redis://127.0.0.1:6379/9",
    }
    return run_reading(SETTINGS, base) | run_reading(SETTINGS, production) | run_reading(SETTINGS, demo_server)


def gunicorn_reads() -> set[str]:
    return run_reading(GUNICORN_CONF, {"LOG_FORMAT": "json"}) | run_reading(GUNICORN_CONF, {})


def parse_env_file(text: str) -> tuple[dict[str, str], list[str]]:
    """Parse as `docker --env-file` does (and check what systemd's EnvironmentFile would read differently).

    Docker: lines are left-trimmed; empty lines and lines starting with # are skipped; the rest is
    NAME=VALUE split at the first "=", the value taken literally (no quotes, no inline comments).
    Returns (values, problems).
    """
    values, problems = {}, []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not _KEY.match(name):
            problems.append(f"line {number}: not NAME=VALUE: {raw!r}")
            continue
        # Both readers would keep these literally or differently: an inline comment becomes part of the
        # value for Docker; systemd strips quotes and trailing blanks, expands nothing, joins "\" lines.
        if "#" in value:
            problems.append(f"line {number}: '#' in the value of {name} (comments go on their own line)")
        if value != value.strip():
            problems.append(f"line {number}: blanks around the value of {name}")
        if value[:1] in {"'", '"'} or value.endswith("\\") or "$" in value:
            problems.append(f"line {number}: quotes, '$' or a trailing '\\' in {name}")
        if name in values:
            problems.append(f"line {number}: {name} given twice")
        values[name] = value
    return values, problems
