# The two commands a newcomer needs: `make run` and `make test`. Everything else is built on demand.
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
BIN := $(VENV)/bin
# sam build needs a python3.13 on PATH: use pyenv's when the machine has one.
PY313 := $(shell command -v pyenv >/dev/null 2>&1 && pyenv versions --bare 2>/dev/null | grep -m1 '^3\.13')
PIP_QUIET := --quiet --disable-pip-version-check
export SAM_CLI_TELEMETRY := 0

.PHONY: run test lint sam-validate unit integration e2e bench build openapi clean

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

run: $(BIN)/.installed
	$(BIN)/postbox local

test: lint sam-validate
	$(BIN)/pytest -q -n 2 --dist loadgroup

lint: $(BIN)/.installed
	$(BIN)/ruff check .

sam-validate: $(TOOLS)/bin/.installed
	AWS_DEFAULT_REGION=us-east-1 $(TOOLS)/bin/sam validate --lint --template template.yaml

unit: $(BIN)/.installed
	$(BIN)/pytest -q tests/unit

integration: $(BIN)/.installed
	$(BIN)/pytest -q tests/integration

e2e: $(BIN)/.installed
	$(BIN)/pytest -q tests/e2e

bench: $(BIN)/.installed
	$(BIN)/python -m bench

openapi: $(BIN)/.installed
	$(BIN)/python -m postbox_local.openapi

build: $(TOOLS)/bin/.installed
	PYENV_VERSION=$(PY313):$$(pyenv version-name 2>/dev/null || echo system) $(TOOLS)/bin/sam build --template template.yaml

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .local .pytest_cache
