# The two commands a newcomer needs: `make run` and `make test`. Everything else is built on demand.
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
BIN := $(VENV)/bin
# sam build needs a python3.13 on PATH: use pyenv's when the machine has one.
PY313 := $(shell command -v pyenv >/dev/null 2>&1 && pyenv versions --bare 2>/dev/null | grep -m1 '^3\.13')
PIP_QUIET := --quiet --disable-pip-version-check
export SAM_CLI_TELEMETRY := 0
# The web inbox's browser tests drive Debian's Chromium: Playwright never downloads a browser.
CHROMIUM := /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test lint sam-validate unit integration e2e fuzz bench build openapi clean web screenshots

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_QUIET) --upgrade pip
	$(BIN)/pip install $(PIP_QUIET) -e '.[dev]'
	touch $@

# aws-sam-cli pins its own boto3 and friends: it lives in a venv of its own.
$(TOOLS)/bin/.installed:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install $(PIP_QUIET) --upgrade pip
	$(TOOLS)/bin/pip install $(PIP_QUIET) aws-sam-cli==1.170.0
	touch $@

# The web inbox (web/): npm packages from package-lock.json, bundled by esbuild into web/dist (not committed).
web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
	touch $@

web/dist/index.html: web/node_modules/.installed web/build.mjs $(wildcard web/src/* web/public/*)
	cd web && node build.mjs

web: web/dist/index.html

# The DHIS2 Messaging app's data layer and playwright-core for tests/e2e/test_dhis2_app.py (from its lock file).
DHIS2APP := tests/e2e/dhis2app
$(DHIS2APP)/node_modules/.installed: $(DHIS2APP)/package.json $(DHIS2APP)/package-lock.json
	cd $(DHIS2APP) && npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
	touch $@

$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests (once)..."
	@$(SUDO) apt-get update -qq >/dev/null
	@$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

run: $(BIN)/.installed web
	$(BIN)/postbox local

test: lint sam-validate web $(DHIS2APP)/node_modules/.installed $(CHROMIUM)
	$(BIN)/pytest -q -n 2 --dist loadgroup

lint: $(BIN)/.installed
	$(BIN)/ruff check .

sam-validate: $(TOOLS)/bin/.installed
	AWS_DEFAULT_REGION=us-east-1 $(TOOLS)/bin/sam validate --lint --template template.yaml

unit: $(BIN)/.installed
	$(BIN)/pytest -q tests/unit

integration: $(BIN)/.installed
	$(BIN)/pytest -q tests/integration

e2e: $(BIN)/.installed web $(DHIS2APP)/node_modules/.installed $(CHROMIUM)
	$(BIN)/pytest -q tests/e2e

# Refresh the committed screenshots of the web inbox (docs/screenshots/*.png).
screenshots: $(BIN)/.installed web $(CHROMIUM)
	POSTBOX_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -q tests/e2e/test_web_inbox.py

# The long fuzz run: many examples per operation, fresh randomness each time (make test runs a few, repeatably).
fuzz: $(BIN)/.installed
	POSTBOX_FUZZ_EXAMPLES=$${POSTBOX_FUZZ_EXAMPLES:-100} POSTBOX_FUZZ_RANDOM=1 $(BIN)/pytest -q -p no:xdist tests/e2e/test_fuzz.py

bench: $(BIN)/.installed
	$(BIN)/python -m bench

openapi: $(BIN)/.installed
	$(BIN)/python -m postbox_local.openapi

build: $(TOOLS)/bin/.installed
	PYENV_VERSION=$(PY313):$$(pyenv version-name 2>/dev/null || echo system) $(TOOLS)/bin/sam build --template template.yaml

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .local .pytest_cache web/node_modules web/dist $(DHIS2APP)/node_modules
