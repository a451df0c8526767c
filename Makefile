# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
# Both cores; pass PYTEST_ARGS="" for a serial run or PYTEST_ARGS="-k name" to pick tests.
PYTEST_ARGS ?= -n 2
VENV := .venv
PY := $(VENV)/bin/python
# Development installs the dev lock file (runtime + tests, lint, browser tests); production images install
# requirements.txt only. Both are compiled with hashes from pyproject.toml: `make lock`.
STAMP := $(VENV)/.installed-$(shell cksum requirements-dev.txt | cut -d' ' -f1)
COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links --strip-extras

.PHONY: run test lint format worker worker-slow worker-welcome beat messages lock

$(STAMP): requirements-dev.txt
	@# Only when missing: a venv may be shared (a symlink), and `python -m venv` refuses symlinks.
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py wecom_sim_seed
	@echo "打开 http://127.0.0.1:8000/dev/chat/ (模拟企业微信聊天窗口)"
	@# Periodic jobs run beside the dev server: without Redis, beat runs each task inline itself
	@# (CELERY_TASK_ALWAYS_EAGER); with REDIS_URL, a worker with beat embedded consumes the queue.
	@mkdir -p var; \
	if [ -n "$$REDIS_URL" ]; then jobs="worker -B"; else jobs="beat"; fi; \
	$(VENV)/bin/celery -A scrm $$jobs -l warning -s var/celerybeat-schedule & jobs_pid=$$!; \
	trap 'kill $$jobs_pid 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# One worker per queue, as production runs them: `fast` (callbacks: each waits on a WeCom call, so a
# threaded pool), `slow` (sync, rollups, media: processes, replaced past 600 MB) and `welcome`.
worker: $(STAMP)
	$(VENV)/bin/celery -A scrm worker -Q fast -P threads -c 16 -n fast@%h -l info

worker-slow: $(STAMP)
	$(VENV)/bin/celery -A scrm worker -Q slow -n slow@%h --max-memory-per-child=600000 -l info

# 32 threads: a welcome waits on WeCom twice (0.3-0.4 s in all), so 50 adds/s keep 15-20 of them in flight.
worker-welcome: $(STAMP)
	$(VENV)/bin/celery -A scrm worker -Q welcome -P threads -c 32 -n welcome@%h -l info

# After editing dependencies in pyproject.toml: recompile both lock files (existing pins are kept).
lock: $(STAMP)
	$(COMPILE) -o requirements.txt pyproject.toml
	$(COMPILE) --extra dev -o requirements-dev.txt pyproject.toml

beat: $(STAMP)
	$(VENV)/bin/celery -A scrm beat -l info

# Refresh the translation catalogs after changing user-facing strings (needs gettext).
messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var --ignore=bench --ignore=tests
	$(PY) manage.py compilemessages --ignore=.venv
