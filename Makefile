PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test demo lint format bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required: install it or run 'make PYTHON=python3 ...'"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	$(PY) sample_clips.py demo/videos
	INPUT_DIR=demo/videos WORKSPACE_DIR=demo/workspace COMPLETED_DIR=demo/completed \
	PUBLISH_DIR=demo/published $(PY) main.py prepare
	INPUT_DIR=demo/videos WORKSPACE_DIR=demo/workspace COMPLETED_DIR=demo/completed \
	PUBLISH_DIR=demo/published $(PY) main.py rank
	@echo "Results: demo/workspace/<video>/metadata.json and candidates/"

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) bench/bench_ranking.py

clean:
	rm -rf $(VENV) demo .pytest_cache .ruff_cache bench/.cache
