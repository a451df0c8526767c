"""`.env.example` must work as `docker --env-file` and as systemd's EnvironmentFile, and list real settings."""

import re

from tests.deploy.envreads import (
    COMPOSE,
    ENV_EXAMPLE,
    SETTINGS,
    gunicorn_reads,
    parse_env_file,
    run_reading,
    settings_reads,
)


def test_env_example_parses_as_docker_and_systemd_read_it():
    values, problems = parse_env_file(ENV_EXAMPLE.read_text())
    assert not problems, problems
    assert values["DEBUG"] == "true"  # not "true   # production: false"
    assert values["DATABASE_URL"] == ""  # blank means the default


def test_the_parser_catches_what_broke_docker():
    _, problems = parse_env_file("DEBUG=true                      # production: false\nDATABASE_URL=  \n")
    assert len(problems) == 2


def test_every_key_is_read_by_the_settings_or_the_deploy_files(tmp_path):
    values, _ = parse_env_file(ENV_EXAMPLE.read_text())
    compose_variables = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE.read_text()))
    read = settings_reads(tmp_path) | gunicorn_reads() | compose_variables
    assert set(values) - read == set()


def test_every_setting_read_from_the_environment_is_listed(tmp_path):
    values, _ = parse_env_file(ENV_EXAMPLE.read_text())
    # Names Python, Django or Celery look up in any process are not ours to document.
    ours = {name for name in settings_reads(tmp_path) if not name.startswith(("DJANGO_", "PYTHON", "CELERY_"))}
    ours |= {"CELERY_METRICS_PORT", "CELERY_METRICS_ADDR", "CELERY_TASK_SOFT_TIME_LIMIT"}
    assert ours - set(values) == set()


def test_the_example_file_gives_working_dev_settings(tmp_path):
    values, _ = parse_env_file(ENV_EXAMPLE.read_text())
    # Exactly what `docker run --env-file .env.example` would hand the settings.
    run_reading(SETTINGS, {**values, "VAR_DIR": str(tmp_path)})
