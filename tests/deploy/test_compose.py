"""The Docker deployment, checked without Docker: every command exists, every variable is a real setting."""

import importlib.util
import json
import re
import shlex

import pytest
import yaml
from django.core.management import get_commands

from scrm.celery import app as celery_app
from tests.deploy.envreads import (
    COMPOSE,
    ENV_EXAMPLE,
    GUNICORN_CONF,
    ROOT,
    gunicorn_reads,
    parse_env_file,
    settings_reads,
)

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
SYSTEMD = ROOT / "deploy" / "systemd"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def _app_services(compose) -> dict:
    # Services running our image (the others are PostgreSQL, Redis and nginx).
    return {name: s for name, s in compose["services"].items() if "scrm" in str(s.get("image", ""))}


def _queues() -> set[str]:
    return {queue.name for queue in celery_app.conf.task_queues}


def check_command(argv: list[str]) -> None:
    """Raise AssertionError unless `argv` runs something this project has."""
    program, *args = argv
    if program == "python":
        assert args[0] == "manage.py", argv
        assert args[1] in get_commands(), f"no management command {args[1]!r}"
    elif program == "gunicorn":
        conf = args[args.index("-c") + 1]
        assert (ROOT / conf).resolve() == GUNICORN_CONF, argv
        module = args[-1].split(":")[0]
        assert importlib.util.find_spec(module) is not None, f"no WSGI module {module}"
    elif program == "celery":
        assert args[:2] == ["-A", "scrm"], argv
        assert args[2] in {"worker", "beat"}, argv
        if "-Q" in args:
            assert set(args[args.index("-Q") + 1].split(",")) <= _queues(), argv
    else:
        raise AssertionError(f"unexpected program {program!r}")


def test_the_compose_file_has_the_services_ops_expect(compose):
    assert {"migrate", "web", "worker-fast", "worker-slow", "beat", "nginx", "postgres", "redis", "redis-cache"} <= set(
        compose["services"]
    )


def test_every_app_service_command_exists(compose):
    services = _app_services(compose)
    assert set(services) == {"migrate", "web", "web-ingest", "worker-fast", "worker-slow", "worker-welcome", "beat"}
    for service in services.values():
        check_command(service["command"])


def test_migrations_are_a_one_off_step(compose):
    services = compose["services"]
    assert services["migrate"]["command"][2] == "migrate"
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "web-ingest", "worker-fast", "worker-slow", "worker-welcome", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "migrate" not in services[name]["command"]


def test_exactly_one_beat(compose):
    beats = [name for name, s in _app_services(compose).items() if "beat" in s["command"]]
    assert beats == ["beat"]
    assert compose["services"]["beat"]["deploy"]["replicas"] == 1


def test_workers_consume_every_queue_a_task_is_routed_to(compose):
    consumed = set()
    for service in _app_services(compose).values():
        command = service["command"]
        if "worker" in command:
            consumed |= set(command[command.index("-Q") + 1].split(","))
    celery_app.loader.import_default_modules()  # what a worker does at start: import every tasks.py
    router = celery_app.amqp.router
    tasks = [name for name in celery_app.tasks if name.startswith("scrm.")]
    assert len(tasks) > 10
    routed = {name: router.route({}, name)["queue"].name for name in tasks}
    assert set(routed.values()) <= consumed
    assert routed["scrm.wecom.tasks.process_callback"] == "fast"
    assert routed["scrm.wecom.tasks.wecom_sync"] == "slow"


def test_every_variable_set_for_the_app_is_a_setting(compose, tmp_path):
    read = settings_reads(tmp_path) | gunicorn_reads()
    for name, service in _app_services(compose).items():
        assert set(service.get("environment", {})) - read == set(), name


def test_the_image_runs_the_web_command_of_the_compose_file(compose):
    cmd = re.search(r"^CMD (.+)$", DOCKERFILE.read_text(), re.MULTILINE).group(1)
    assert json.loads(cmd) == compose["services"]["web"]["command"]
    dockerfile = DOCKERFILE.read_text()
    assert "ARG PIP_INDEX_URL" in dockerfile and "ARG PYTHON_IMAGE" in dockerfile
    assert "USER scrm" in dockerfile
    assert "--require-hashes" in dockerfile and "requirements.txt" in dockerfile
    assert "requirements-dev.txt" not in dockerfile


def _unit_commands(unit) -> list[tuple[dict, list[str]]]:
    """(environment given on the command line, argv) of each ExecStart= of a systemd unit."""
    commands = []
    for line in unit.read_text().replace("\\\n", " ").splitlines():
        if line.startswith("ExecStart="):
            argv = [arg.replace("%i", "fast") for arg in shlex.split(line.removeprefix("ExecStart="))]
            environ = {}
            if argv[0] == "/usr/bin/env":
                argv.pop(0)
                while "=" in argv[0]:
                    name, value = argv.pop(0).split("=", 1)
                    environ[name] = value
            argv[0] = argv[0].rsplit("/", 1)[-1]
            commands.append((environ, argv))
    return commands


def test_the_systemd_units_run_commands_that_exist(tmp_path):
    read = settings_reads(tmp_path) | gunicorn_reads()
    commands = [command for unit in SYSTEMD.glob("*.service") for command in _unit_commands(unit)]
    # scrm-worker-welcome and scrm-worker-fast: the threaded pools have units of their own.
    assert len(commands) == 8
    for environ, argv in commands:
        check_command(argv)
        assert set(environ) - read == set()
        # The layout the nginx site serves from.
        assert environ["MEDIA_ROOT"] == "/srv/scrm/media" and environ["STATIC_ROOT"] == "/srv/scrm/static"


def test_blank_values_from_the_env_file_cannot_clear_the_images_layout(compose):
    # Compose's `environment` wins over env_file; the image's ENV does not.
    image_env = set(
        re.findall(r"^\s+([A-Z_]+)=", DOCKERFILE.read_text().split("FROM ${PYTHON_IMAGE} AS runtime")[1], re.M)
    )
    listed, _ = parse_env_file(ENV_EXAMPLE.read_text())
    exposed = image_env & set(listed)
    assert {"VAR_DIR", "MEDIA_ROOT", "STATIC_ROOT"} <= exposed
    for name, service in _app_services(compose).items():
        assert exposed <= set(service["environment"]), name


def test_the_production_lock_file_has_no_dev_tools():
    runtime = (ROOT / "requirements.txt").read_text().lower()
    for tool in ("playwright", "faker", "ruff", "pytest", "factory-boy"):
        assert f"\n{tool}==" not in runtime, tool
    dev = (ROOT / "requirements-dev.txt").read_text().lower()
    for name in ("playwright==", "ruff==", "django==", "requests==", "xmltodict=="):
        assert name in dev
    assert "--hash=sha256:" in runtime and "--hash=sha256:" in dev


def test_nginx_takes_the_uploads_the_app_takes():
    from django.conf import settings

    site = (ROOT / "deploy" / "nginx" / "scrm.conf").read_text()
    size = int(re.search(r"client_max_body_size (\d+)m;", site).group(1))
    assert size * 1024 * 1024 == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert "X-Request-ID" in site and "X-Forwarded-Proto" in site


def test_brand_imports_and_callbacks_have_a_web_pool_of_their_own(compose):
    """A 500-event import holds a sync worker for seconds: sidebars must not queue behind it."""
    services = compose["services"]
    assert services["web-ingest"]["command"] == services["web"]["command"]
    site = (ROOT / "deploy" / "nginx" / "scrm.conf").read_text()
    routes = dict(re.findall(r"location (\S+) \{\s*proxy_pass http://(\w+);", site))
    assert routes["/api/"] == routes["/wecom/callback/"] == "scrm_ingest"
    assert routes["/"] == "scrm_web"
    assert "server web-ingest:8000;" in site
    # An identify mostly waits on PostgreSQL's commit: the ingest pool runs threads, the sidebar's does not.
    [(unit_env, _argv)] = _unit_commands(SYSTEMD / "scrm-web-ingest.service")
    assert int(unit_env["GUNICORN_THREADS"]) > 1 and int(services["web-ingest"]["environment"]["GUNICORN_THREADS"]) > 1
    assert "GUNICORN_THREADS" not in services["web"].get("environment", {})


def test_welcomes_run_on_a_threaded_pool_in_every_deployment(compose):
    """A welcome waits on WeCom twice within WeCom's 20 s: a prefork pool of one process a core would
    hold a handful at a time, far below 50 adds/s."""
    [(_env, unit)] = _unit_commands(SYSTEMD / "scrm-worker-welcome.service")
    service = compose["services"]["worker-welcome"]["command"]
    make = re.search(r"^worker-welcome:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1).split()
    for argv in (unit, service, make):
        assert argv[argv.index("-Q") + 1] == "welcome"
        assert argv[argv.index("-P") + 1] == "threads"
        concurrency = argv[argv.index("-c") + 1] if "-c" in argv else argv[argv.index("--concurrency") + 1]
        assert int(concurrency) >= 32
