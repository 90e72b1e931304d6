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

# .ci/test-tools installs Xvfb, xdotool, xwd, Chromium and systemd-analyze when root (as CI does)
test: $(STAMP)
	@bash .ci/test-tools
	$(PY) -m pytest -q

# INGEST_SETTLE=0: the sample clips are complete when written, no need to wait for them to settle.
DEMO_ENV := INPUT_DIR=demo/videos WORKSPACE_DIR=demo/workspace COMPLETED_DIR=demo/completed \
	PUBLISH_DIR=demo/published TEMPORAL_DATA_DIR=demo/temporal UPLOAD_TARGET=local INGEST_SETTLE=0 \
	VIDEO_TITLE_SECONDS=4

demo: $(STAMP)
	rm -rf demo
	$(PY) sample_clips.py demo/videos
	$(DEMO_ENV) ./cafe up --pick 1 --exit-when-done
	@echo "Published: demo/published/ (each video opens with its match's title and ends with the thanks, 4 s each)   Archived: demo/completed/"

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) demo .pytest_cache .ruff_cache bench/.cache
