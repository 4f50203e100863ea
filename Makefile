# Clinic assistant: `make help` lists the targets. CI runs `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# `rasa` without JAX in memory (80 MB that TensorFlow imports and Rasa never uses):
# clinic/rasa_main.py
RASA := $(PY) -m clinic.rasa_main
UV_VERSION := 0.13.8
SPACY_PIPELINE := build/en_clinic

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONUNBUFFERED := 1
export RASA_PORT ?= 5005
export ACTION_PORT ?= 5055
# Rasa calls the action proxy (clinic/action_proxy.py), which calls the action server
export ACTION_PROXY_PORT ?= 5056
export ACTION_SERVER_URL ?= http://127.0.0.1:$(ACTION_PORT)
export ACTION_ENDPOINT_URL ?= http://127.0.0.1:$(ACTION_PROXY_PORT)/webhook
export TRACKER_STORE_URL ?= sqlite:///var/tracker.db
export DATABASE_URL ?= sqlite:///var/clinic.db
export HOST ?= 127.0.0.1
export PORT ?= 8000
export RASA_URL ?= http://127.0.0.1:$(RASA_PORT)
export LOCK_STORE_URL ?= memory://
# supervisord's pid file and socket while make run is up (supervisord.conf)
export CLINIC_RUN_DIR ?= $(CURDIR)/var/run
CHROMIUM := /usr/bin/chromium

.PHONY: help setup spacy train run status web shell lint format validate browser-deps pytest test-browser screenshots test-stories test-nlu test-form-answers test-questions test-red-flags test lock clean scaleout-deps test-scaleout bench bench-quick bench-console soak audit

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock
	@set -e; py=$$(bash scripts/find-python310.sh); \
	echo "creating $(VENV) with $$py"; \
	[ -x $(PY) ] || $$py -m venv $(VENV); \
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"; \
	$(VENV)/bin/uv pip install --quiet --python $(PY) --require-hashes --compile-bytecode \
	  -r requirements.lock; \
	$(PY) -m pip check; \
	touch $@

# Byte-code of every installed module, written once. uv writes none unless asked, and where
# PYTHONDONTWRITEBYTECODE is set Python never writes it either: every rasa command compiled
# TensorFlow, Keras and Rasa again (importing TensorFlow: 16 s of CPU instead of 7). This
# stamp also covers a .venv created before --compile-bytecode above.
$(VENV)/.bytecode: $(VENV)/.installed
	@echo "compiling $(VENV)'s modules to byte-code (once)"
	@$(PY) -m compileall -q -j 0 $(VENV)/lib >/dev/null || true
	@touch $@

setup: $(VENV)/.installed $(VENV)/.bytecode ## create .venv (Python 3.10) with the pinned dependencies

$(SPACY_PIPELINE)/meta.json: $(VENV)/.installed clinic/nlu/spacy_pipeline.py $(wildcard clinic/nlu/patterns/*) | $(VENV)/.bytecode
	$(PY) -m clinic.nlu.spacy_pipeline $(SPACY_PIPELINE)

spacy: $(SPACY_PIPELINE)/meta.json ## build the project's spaCy pipeline (blank en + lemmas + entity ruler)

train: spacy ## train a model if data/, domain.yml or config.yml changed since the newest one
	@bash scripts/train.sh

run: train ## start the action server, its proxy, the Rasa server and the web app on 127.0.0.1:8000 under supervisord (Ctrl-C stops all)
	@bash scripts/run.sh

status: ## while make run is up: each process's state, pid and uptime (supervisorctl status)
	@$(PY) -m supervisor.supervisorctl --configuration supervisord.conf status

web: setup ## start only the web app (demo page, widget, chat gateway) on HOST:PORT
	$(PY) -m clinic.web

shell: train ## chat in the terminal (starts the action server and the action proxy alongside)
	@SANIC_HOST=127.0.0.1 $(PY) -m rasa_sdk --actions actions --port $(ACTION_PORT) & pid=$$!; \
	$(PY) -m clinic action-proxy & proxy=$$!; \
	trap "kill $$pid $$proxy" EXIT; $(RASA) shell --model models --endpoints endpoints.yml

lint: setup ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

validate: setup ## rasa data validate (domain, NLU data, stories, rules; warns on responses sent by actions)
	$(RASA) data validate

browser-deps: ## install Debian's chromium for the browser tests when $(CHROMIUM) is missing
	@if [ -x $(CHROMIUM) ]; then echo "browser tests use $(CHROMIUM)"; else \
	  echo "installing Debian's chromium for the browser tests"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q \
	    --no-install-recommends chromium fonts-dejavu-core fonts-liberation; fi

pytest: train browser-deps scaleout-deps ## unit, content, end-to-end and browser tests (real Rasa + action servers)
	$(PY) -m pytest

test-browser: train browser-deps ## only the widget's browser tests (headless Chromium)
	$(PY) -m pytest -m browser

screenshots: train browser-deps ## docs/widget-desktop.png and docs/widget-phone.png from the real stack
	$(PY) scripts/screenshots.py

test-stories: train ## dialogue test stories, failing on any wrong prediction
	$(RASA) test core --model models --stories tests/test_stories.yml \
	  --fail-on-prediction-errors --out results/stories

test-nlu: train ## held-out in-domain accuracy and CLINC150 off-topic rejection (fail below 0.94 / 0.97)
	$(PY) scripts/check_nlu.py --min-accuracy 0.94 --min-rejection 0.97

# The held-out bars: recall at the goal (0.98) on rounds 6 and 17 (round 17, written later
# by another writer, measured 0.990 and 7.5% false alarms), false alarms and self-harm at what
# the sets measure less a margin, so a regression fails. The false-alarm goal (2%) is not
# reached yet; see the README's warning-sign section.
RED_FLAG_MIN_RECALL ?= 0.98
RED_FLAG_MAX_FALSE_ALARMS ?= 0.03
RED_FLAG_MAX_ROUND17_FALSE_ALARMS ?= 0.09
RED_FLAG_MIN_SELF_HARM_RECALL ?= 0.95
# The forms' answer-or-digression decision on held-out replies (round 9 measures 0.962).
FORM_ANSWERS_MIN_ACCURACY ?= 0.94
test-form-answers: train ## held-out form replies (names, not names, times, questions): fails below the bar
	$(PY) scripts/check_slot_answers.py --min-accuracy $(FORM_ANSWERS_MIN_ACCURACY)

# Patient questions answered from the articles' facts (issue 14), through the real REST
# channel: the development questions are printed (they were used for tuning); the held-out
# questions, once someone outside adds them, must reach the bar.
QUESTIONS_DEV := tests/content/questions_dev.yml
QUESTIONS_HOLDOUT := tests/content/questions_holdout.yml
# Held-out questions (187, written outside the team, never read): measured 104/187 = 0.556 on
# 2026-12-01; the bar holds that line while the goal (0.95) is not reached.
QUESTIONS_MIN_ACCURACY ?= 0.60
test-questions: train ## patient questions through the REST channel: dev figure; held-out fails below 0.60 (goal 0.95)
	@if [ -f $(QUESTIONS_HOLDOUT) ]; then \
	  $(PY) scripts/check_questions.py $(QUESTIONS_DEV) --holdout $(QUESTIONS_HOLDOUT) \
	    --min-accuracy $(QUESTIONS_MIN_ACCURACY); \
	else \
	  echo "NOTE: $(QUESTIONS_HOLDOUT) does not exist yet: only the development questions are measured (no bar)"; \
	  $(PY) scripts/check_questions.py $(QUESTIONS_DEV); \
	fi

test-red-flags: spacy ## red-flag recall and false alarms: seed, development and held-out cases (fails below the held-out bar)
	$(PY) scripts/red_flag_report.py --min-holdout-recall $(RED_FLAG_MIN_RECALL) \
	  --max-holdout-false-alarms $(RED_FLAG_MAX_FALSE_ALARMS) \
	  --max-round17-false-alarms $(RED_FLAG_MAX_ROUND17_FALSE_ALARMS) \
	  --min-holdout-self-harm-recall $(RED_FLAG_MIN_SELF_HARM_RECALL)

test: lint audit validate train pytest test-stories test-nlu test-form-answers test-questions test-red-flags bench-quick ## everything CI runs (bench-quick only proves the benchmark runs)

scaleout-deps: ## install Debian's postgresql and redis-server for the scale-out test when missing
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -x /usr/bin/redis-server ]; then \
	  echo "scale-out test uses $$(ls -d /usr/lib/postgresql/*/bin | tail -n 1) and /usr/bin/redis-server"; else \
	  echo "installing Debian's postgresql and redis-server for the scale-out test"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q \
	    --no-install-recommends postgresql redis-server; fi

test-scaleout: train scaleout-deps ## 2, then 4 Rasa processes on PostgreSQL + Redis: conversations complete and in order
	$(PY) -m pytest -m scaleout tests/test_scale_out.py

bench: train scaleout-deps ## full benchmark, project vs project+TED vs default pipeline: bench/results.json, bench/README.md (1 h+)
	$(PY) -m bench.run $(BENCH_ARGS)

bench-quick: train ## quick benchmark (newest model, no cross-validation): results/bench-quick/
	$(PY) -m bench.run --quick $(BENCH_ARGS)

bench-console: setup scaleout-deps ## staff console: list/filter page times at 100,000 seeded conversations, SQLite + PostgreSQL
	$(PY) -m bench.console $(BENCH_ARGS)

soak: train ## 50 concurrent conversations x 20 turns through /api/chat, checked exactly-once: results/soak/
	$(PY) -m bench.soak --conversations 50 --turns 20 --out results/soak $(SOAK_ARGS)

lock: ## re-pin requirements.lock from requirements.in (and requirements-audit.lock)
	$(VENV)/bin/uv pip compile requirements.in --python-version 3.10 --generate-hashes -o requirements.lock
	$(VENV)/bin/uv pip compile requirements-audit.in --python-version 3.10 --generate-hashes -o requirements-audit.lock

AUDIT_VENV := build/pip-audit
$(AUDIT_VENV)/.installed: requirements-audit.lock $(VENV)/.installed
	$(VENV)/bin/uv venv --quiet --allow-existing --python $(PY) $(AUDIT_VENV)
	$(VENV)/bin/uv pip install --quiet --python $(AUDIT_VENV)/bin/python --require-hashes -r requirements-audit.lock
	touch $@

audit: $(AUDIT_VENV)/.installed ## pip-audit of requirements.lock (accepted findings: audit-ignore.yml; skipped when offline)
	$(PY) scripts/audit.py --pip-audit $(AUDIT_VENV)/bin/pip-audit --ignore-file audit-ignore.yml requirements.lock

clean: ## remove trained models, built pipeline and test results (keeps var/ data)
	rm -rf models build results .pytest_cache .ruff_cache
