# Two commands a newcomer needs: `make run` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-pywb.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-pywb.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) -m archive init
	$(PY) -m archive serve

test: $(VENV)/.dev
	sh .ci/system-packages.sh
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

bench: $(VENV)/.dev
	$(PY) bench/pipeline_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-output
