# Slotbot's two commands (see README.md):
#   make run   — the whole stack on the embedded default (SQLite, no Redis, the Telegram sandbox)
#   make test  — the test suite on PostgreSQL and Redis (and SQLite where it differs)
# Both create what they need: the virtualenv under .venv, the packages, the database.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MANAGE := $(PY) manage.py

.PHONY: run test lint bench venv system-deps messages clean help

help:
	@echo "make run    start Slotbot (sandbox, web, bot, worker, beat) on the embedded default"
	@echo "make test   run the tests (needs PostgreSQL on 127.0.0.1:5432 and Redis on 6379)"
	@echo "make lint   ruff: lint and format check (CI runs it before the tests)"
	@echo "make bench  run the benchmarks and print their figures"

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# Debian packages the tests need: a headless browser for the sandbox page test,
# and gettext for compiling translations. Installed only when missing (needs root).
system-deps:
	@missing=""; \
	command -v msgfmt >/dev/null 2>&1 || missing="$$missing gettext"; \
	test -x /usr/bin/chromium || missing="$$missing chromium chromium-driver"; \
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing:$$missing"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }; \
		else \
			echo "please install:$$missing (Debian packages)"; \
		fi; \
	fi

messages: venv
	@if find . -path ./$(VENV) -prune -o -name '*.po' -print | grep -q .; then \
		DEBUG=1 $(MANAGE) compilemessages -v 0 --ignore=$(VENV) --ignore=var; fi

run: venv messages
	mkdir -p var
	DEBUG=$${DEBUG-1} $(MANAGE) migrate --no-input -v 0
	DEBUG=$${DEBUG-1} $(MANAGE) seed_demo
	DEBUG=$${DEBUG-1} $(MANAGE) collectstatic --no-input -v 0
	DEBUG=$${DEBUG-1} $(MANAGE) dev

# The SQLite pass (the domain and the API on the embedded default) runs beside the PostgreSQL pass, on the
# other core at a lower priority (the timing-sensitive end-to-end tests are in the PostgreSQL pass); its output
# follows the PostgreSQL pass's, and either one failing fails the target.
test: venv system-deps messages
	mkdir -p var
	@SLOTBOT_SQLITE_PASS=1 DATABASE_URL=sqlite:///$(CURDIR)/var/test-sqlite.sqlite3 \
		nice -n 10 $(PY) -m pytest tests/bookings tests/api -q -p no:cacheprovider > var/test-sqlite.log 2>&1 & sqlite=$$!; \
	$(PY) -m pytest -q; postgres=$$?; \
	wait $$sqlite; sqlite_status=$$?; \
	echo "== the SQLite pass (tests/bookings, tests/api on SQLite)"; cat var/test-sqlite.log; \
	test $$postgres -eq 0 -a $$sqlite_status -eq 0

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: venv
	$(PY) bench/bench_bookings.py
	$(PY) bench/bench_sandbox.py
	$(PY) bench/bench_bot.py
	$(PY) bench/bench_bot_open.py
	$(PY) bench/bench_notifications.py
	$(PY) bench/bench_shared_limit.py
	$(PY) bench/bench_resources_matching.py
	$(PY) bench/bench_feeds.py
	$(PY) bench/bench_timeline.py

clean:
	rm -rf var/ .pytest_cache .hypothesis
