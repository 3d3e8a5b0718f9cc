# Two commands do everything on a fresh machine (Python 3.11 and make are all they need):
#   make up     install what is needed and run Ringside on its embedded defaults
#   make test   install what is needed (dev tools too) and run lint, types and the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: up test lint typecheck pytest chromium node-packages dashboard protos lock bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Two distributions from this repository: the SDK (`ringside`, sdk/python) and the server
# (`ringside-server`, the root); their dependencies come pinned and hashed from the lock.
$(RUN_STAMP): requirements/run.lock pyproject.toml sdk/python/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/run.lock
	$(BIN)/pip install --quiet --no-deps -e sdk/python -e .
	touch $@

$(DEV_STAMP): requirements/dev.lock pyproject.toml sdk/python/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e sdk/python -e .
	touch $@ $(RUN_STAMP)

up: $(RUN_STAMP)
	$(BIN)/ringside up

test: lint typecheck pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP) node-packages
	$(BIN)/mypy
	cd sdk/typescript && npx tsc -p tsconfig.test.json --noEmit

pytest: $(DEV_STAMP) chromium node-packages
	$(BIN)/pytest -q

# The browser tests drive Debian's chromium through Playwright; a browser is never downloaded.
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || command -v sudo || true); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium; }

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
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra rag --generate-hashes --python-version 3.11 --no-emit-package ringside -o requirements/dev.lock

bench: $(DEV_STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(DEV_STAMP)
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) .ringside .pytest_cache .mypy_cache .ruff_cache sdk/typescript/node_modules sdk/typescript/dist sdk/typescript/build-test
