# fedchain: every target sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
CONTRACTS_STAMP := contracts/node_modules/.installed-stamp

.PHONY: venv test lint typecheck demo bench contracts clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(CONTRACTS_STAMP): contracts/package.json contracts/package-lock.json
	cd contracts && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## contracts: recompile the Solidity sources into the committed artifacts
contracts: $(CONTRACTS_STAMP)
	cd contracts && node compile.mjs

lint: $(STAMP)
	$(PY) -m ruff check fedchain_magics tests bench
	$(PY) -m ruff format --check fedchain_magics tests bench

typecheck: $(STAMP)
	$(PY) -m mypy fedchain_magics

## test: everything CI runs
test: $(STAMP) $(CONTRACTS_STAMP)
	$(MAKE) lint
	$(MAKE) typecheck
	$(PY) -m pytest

## demo: a headless 3-party encrypted round; prints the ledger and balances
demo: $(STAMP)
	$(PY) -m fedchain_magics.demo

## bench: gas, ciphertext size and round-time figures; the last line is JSON
bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) contracts/node_modules build .pytest_cache .mypy_cache .ruff_cache
