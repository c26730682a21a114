# fedchain: every target sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
CONTRACTS_STAMP := contracts/node_modules/.installed-stamp
# The JupyterLab sidebar: built with the venv's jlpm, installed into the venv.
LABEXTENSION_STAMP := $(VENV)/.labextension-stamp
LABEXTENSION_SOURCES := $(shell find labextension/src labextension/style labextension/scripts -type f 2>/dev/null) \
	labextension/package.json labextension/yarn.lock labextension/tsconfig.json \
	labextension/pyproject.toml labextension/install.json \
	fedchain_magics/sidebar/message_schema.json
JLPM := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CURDIR)/$(VENV)/bin/jlpm
# The two wheels of `make dist`, named after the versions in pyproject.toml and package.json.
MAGICS_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
LABEXTENSION_VERSION := $(shell sed -n 's/^ *"version": "\(.*\)",/\1/p' labextension/package.json | head -1)
MAGICS_WHEEL := dist/fedchain_magics-$(MAGICS_VERSION)-py3-none-any.whl
LABEXTENSION_WHEEL := dist/fedchain_labextension-$(LABEXTENSION_VERSION)-py3-none-any.whl
MAGICS_SOURCES := $(shell find fedchain_magics -type f -not -path '*/__pycache__/*' 2>/dev/null) \
	pyproject.toml README.md
# Local builds, offline: the venv's hatchling and hatch-jupyter-builder (requirements.lock).
PIP_WHEEL := $(PY) -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w dist
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: venv test lint typecheck demo bench contracts clean
.PHONY: labextension labextension-test chromium lab sidebar-screenshot dist

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	$(PY) -m pip check  # the lock must hold every dependency pyproject.toml declares
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
	$(VENV)/bin/lint-imports  # the layers of docs/architecture.md (contracts in pyproject.toml)

typecheck: $(STAMP)
	$(PY) -m mypy fedchain_magics

## labextension: build the sidebar extension and install it into the venv (only when changed)
labextension: $(LABEXTENSION_STAMP)

$(LABEXTENSION_STAMP): $(STAMP) $(LABEXTENSION_SOURCES)
	cd labextension && $(JLPM) install --immutable
	cd labextension && $(JLPM) check:generated  # committed src/generated must match the schema
	cd labextension && $(JLPM) build:prod
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation ./labextension
	touch $@

## dist: two wheels in dist/, fedchain-magics (the kernel side) and fedchain-labextension (the
## sidebar, its JavaScript prebuilt inside: installing it needs no Node); rebuilt only when changed
dist: $(MAGICS_WHEEL) $(LABEXTENSION_WHEEL)

$(MAGICS_WHEEL): $(STAMP) $(MAGICS_SOURCES)
	rm -f dist/fedchain_magics-*.whl
	$(PIP_WHEEL) .

# The labextension stamp has just built the JS (build:prod), so hatch-jupyter-builder packs those
# assets as they are (skip-if-exists); jlpm on PATH only in case they were deleted since.
$(LABEXTENSION_WHEEL): $(LABEXTENSION_STAMP)
	rm -f dist/fedchain_labextension-*.whl
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PIP_WHEEL) ./labextension

## labextension-test: the sidebar's jest tests (model, views, the message schema contract), and
## a check that src/generated (types and validator) is current with message_schema.json
labextension-test: $(LABEXTENSION_STAMP)
	cd labextension && $(JLPM) check:generated
	cd labextension && $(JLPM) test --silent

## chromium: Debian's Chromium for the browser tests (installed only when missing)
chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; }

## lab: JupyterLab with the sidebar, notebooks/ as its root
lab: $(LABEXTENSION_STAMP)
	mkdir -p notebooks
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir=notebooks

## sidebar-screenshot: rerun the browser tests and refresh the sidebar pictures in docs/images/
sidebar-screenshot: $(STAMP) $(LABEXTENSION_STAMP) chromium
	$(PY) -m pytest -q tests/ui/test_sidebar_round.py
	cp build/screenshots/sidebar-round-light.png docs/images/sidebar.png
	FEDCHAIN_REFRESH_PICTURES=1 $(PY) -m pytest -q tests/ui/test_sidebar_quickstart.py
	$(PY) -m pytest -q tests/ui/test_sidebar_valued.py
	cp build/screenshots/sidebar-valued-250-light.png build/screenshots/sidebar-valued-400-dark.png \
		docs/images/

## test: everything CI runs (the browser tests included)
test: $(STAMP) $(CONTRACTS_STAMP) $(LABEXTENSION_STAMP) chromium
	$(MAKE) lint
	$(MAKE) typecheck
	$(MAKE) labextension-test
	$(PY) -m pytest --durations=0 --durations-min=5

## demo: run notebooks/01-quickstart.ipynb headless; print its summary (accuracy per round vs
## centralized, ledger totals, balances); write build/01-quickstart.html
demo: $(STAMP)
	$(PY) -m fedchain_magics.demo

## bench: gas, ciphertext size and round-time figures; the last line is JSON
bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) contracts/node_modules build .pytest_cache .mypy_cache .ruff_cache
