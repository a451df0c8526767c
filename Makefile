# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
# Both cores; pass PYTEST_ARGS="" for a serial run or PYTEST_ARGS="-k name" to pick tests.
PYTEST_ARGS ?= -n 2
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: run test lint format worker beat messages

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py wecom_sim_seed
	@echo "打开 http://127.0.0.1:8000/dev/chat/ (模拟企业微信聊天窗口)"
	$(PY) manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: $(STAMP)
	$(VENV)/bin/celery -A scrm worker -l info

beat: $(STAMP)
	$(VENV)/bin/celery -A scrm beat -l info

# Refresh the translation catalogs after changing user-facing strings (needs gettext).
messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var --ignore=bench --ignore=tests
	$(PY) manage.py compilemessages --ignore=.venv
