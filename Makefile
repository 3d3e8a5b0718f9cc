# Two commands do everything on a fresh machine (Python 3.11 and make are all they need):
#   make up     install what is needed and run Ringside on its embedded defaults
#   make test   install what is needed (dev tools too) and run lint, types and the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print(".".join(map(str, sys.version_info[:3])))' 2>/dev/null)
# The interpreter the venv was made with, recorded in its name: another Python gets a new venv.
PYTHON_STAMP := $(VENV)/.python-$(PYTHON_VERSION)
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
VERSION_OF = import sys; print(".".join(map(str, sys.version_info[:3])))

.PHONY: up test lint typecheck pytest chromium node-packages dashboard protos lock bench bench-quick clean clean-data

# A venv made by another Python (an upgrade, another PYTHON=) is rebuilt, never silently reused.
$(PYTHON_STAMP):
	@test -n "$(PYTHON_VERSION)" || { echo "make: no Python found: install Python 3.11 or set PYTHON=" >&2; exit 1; }
	@found=$$($(BIN)/python -c '$(VERSION_OF)' 2>/dev/null || true); \
	if [ -n "$$found" ] && [ "$$found" != "$(PYTHON_VERSION)" ]; then \
	  echo "==> $(VENV) was made by Python $$found, not $(PYTHON_VERSION) ($(PYTHON)): rebuilding it"; \
	  rm -rf $(VENV); \
	fi
	@test -x $(BIN)/python || { echo "==> creating $(VENV) with Python $(PYTHON_VERSION) ($(PYTHON))"; $(PYTHON) -m venv $(VENV); }
	@touch $@

$(BIN)/python: $(PYTHON_STAMP)

# Two distributions from this repository: the SDK (`ringside`, sdk/python) and the server
# (`ringside-server`, the root); their dependencies come pinned and hashed from the lock.
# pip shows each package and its download progress: a first install takes a minute or more.
$(RUN_STAMP): requirements/run.lock pyproject.toml sdk/python/pyproject.toml $(PYTHON_STAMP)
	@echo "==> [1/2] installing the $$(grep -c '^[a-z]' requirements/run.lock) pinned packages of requirements/run.lock into $(VENV)"
	$(BIN)/pip install --disable-pip-version-check --progress-bar on --require-hashes -r requirements/run.lock
	@echo "==> [2/2] installing Ringside itself (editable: ./ and sdk/python)"
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e sdk/python -e .
	@touch $@
	@echo "==> installed into $(VENV) (Python $(PYTHON_VERSION))"

$(DEV_STAMP): requirements/dev.lock pyproject.toml sdk/python/pyproject.toml $(PYTHON_STAMP)
	@echo "==> [1/2] installing the $$(grep -c '^[a-z]' requirements/dev.lock) pinned packages of requirements/dev.lock (dev tools too) into $(VENV)"
	$(BIN)/pip install --disable-pip-version-check --progress-bar on --require-hashes -r requirements/dev.lock
	@echo "==> [2/2] installing Ringside itself (editable: ./ and sdk/python)"
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e sdk/python -e .
	@touch $@ $(RUN_STAMP)
	@echo "==> installed into $(VENV) (Python $(PYTHON_VERSION))"

up: $(RUN_STAMP)
	$(BIN)/ringside up

test: lint typecheck pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP) node-packages
	$(BIN)/mypy
	cd sdk/typescript && npx tsc -p tsconfig.test.json --noEmit

# The suite runs in PYTEST_WORKERS processes (pytest-xdist), each test file whole in one of them (its
# module's stack starts once); `make pytest PYTEST_WORKERS=0` runs it in one process (docs/testing.md).
# Every run ends with its 25 slowest items (those over 10 s): where the suite's time goes. Three
# processes on two CPUs: most of a test's time is a wait (a kill, a TTL, a back-off), which the
# third overlaps (docs/testing.md, "Three processes on two CPUs").
PYTEST_WORKERS ?= 3
pytest: $(DEV_STAMP) chromium node-packages
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile --durations=25 --durations-min=10

# The browser tests drive Debian's chromium through Playwright; a browser is never downloaded. CI
# installs it and must run them; elsewhere, when it cannot be installed, they are skipped, saying so.
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || command -v sudo || true); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium; } || { \
	  [ "$$CI" != true ] || exit 1; \
	  echo "==> Debian's chromium could not be installed: the browser tests (tests/browser/) will be skipped."; \
	  echo "    To run them: sudo apt-get install chromium, then make test."; }

# The TypeScript SDK's packages, pinned by sdk/typescript/package-lock.json (tests/sdk/test_typescript.py
# runs its tests against the live stack). Node comes from Debian when the machine has none.
TS_STAMP := sdk/typescript/node_modules/.package-lock.json
$(TS_STAMP): sdk/typescript/package-lock.json
	@command -v npm >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || command -v sudo || true); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends nodejs npm; }
	cd sdk/typescript && npm ci --no-audit --no-fund
	touch $@

# The dashboard's packages, pinned by dashboard/package-lock.json (tests/edge_http/test_dashboard_build.py
# rebuilds the dashboard and compares it with the committed assets; tests/browser/test_dashboard.py
# runs axe-core from there).
DASH_STAMP := dashboard/node_modules/.package-lock.json
$(DASH_STAMP): dashboard/package-lock.json $(TS_STAMP)
	cd dashboard && npm ci --no-audit --no-fund
	touch $@

node-packages: $(TS_STAMP) $(DASH_STAMP)

# The operator dashboard (/dashboard): its built assets in edge_http/dashboard/static/ are
# committed, so `make up` needs no Node; this rebuilds them from dashboard/src/.
dashboard: $(DASH_STAMP)
	cd dashboard && npm run build

# Regenerate sdk/python/ringside/core/v1/ from protos/ (tests/test_protos.py fails when it is stale).
protos: $(DEV_STAMP)
	$(BIN)/python protos/generate.py

# Re-pin every dependency (needs `uv`: pip install uv).
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 --no-emit-package ringside -o requirements/run.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --no-emit-package ringside -o requirements/dev.lock

bench: $(DEV_STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(DEV_STAMP)
	$(BIN)/python -m bench.run --quick

# The data dir (.ringside: the database, the keys, Temporal's history) survives `make clean`;
# `make clean-data` deletes it, when asked for by name.
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache sdk/typescript/node_modules sdk/typescript/dist sdk/typescript/build-test
	@test ! -d .ringside || echo "==> kept .ringside/ (your data and keys); \`make clean-data\` deletes it"

clean-data:
	rm -rf .ringside
