# Two commands on a fresh machine: `make run` and `make test`. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
# USER is also the shell's login name: only a USER given on the command line picks the token's user.
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),dev-user)
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt layers/dependencies/requirements.txt | sha1sum | cut -c1-12)

.PHONY: bench-batches bench-smartcrop bench-social bench-transitions run test token lint typecheck template-check sam-validate unit integration flows bench clean install

install: $(STAMP)

$(STAMP): requirements-dev.txt layers/dependencies/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2> >(grep -v "is ignored" >&2)
	$(PY) -m pip install -q -r requirements-dev.txt 2> >(grep -v "is ignored" >&2)
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)  ## start the whole system offline on http://127.0.0.1:$(PORT)
	$(PY) -m local run --port $(PORT)

token: $(STAMP)  ## print a dev JWT for USER (last line)
	@$(PY) -m local token --user "$(TOKEN_USER)" $(if $(GROUPS),--groups "$(GROUPS)")

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

template-check: $(STAMP)
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m local check-asl
	$(MAKE) --no-print-directory sam-validate

# aws-sam-cli pins an older boto3: it lives in its own environment.
sam-validate:
	@if [ ! -x .venv-sam/bin/sam ]; then \
	  $(PYTHON) -m venv .venv-sam && .venv-sam/bin/pip install -q aws-sam-cli 2> >(grep -v "is ignored" >&2) \
	  || { echo "aws-sam-cli could not be installed here: sam validate skipped (cfn-lint ran)"; exit 0; }; \
	fi; \
	if [ -x .venv-sam/bin/sam ]; then \
	  SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 .venv-sam/bin/sam validate --lint --template template.yaml; \
	fi

test: lint typecheck template-check  ## everything: ruff, mypy, cfn-lint + sam validate + ASL checks, pytest
	$(PY) -m pytest

unit: $(STAMP)
	$(PY) -m pytest tests/unit
integration: $(STAMP)
	$(PY) -m pytest tests/integration
flows: $(STAMP)
	$(PY) -m pytest tests/flows

bench: $(STAMP)
	$(PY) -m benchmarks
	$(PY) -m benchmarks.transitions

bench-transitions: $(STAMP)
	$(PY) -m benchmarks.transitions

bench-batches: $(STAMP)  ## a 20-row batch at concurrency 1, 4, 10 vs 40 direct calls (prints speedups last)
	$(PY) -m benchmarks.batches

bench-smartcrop: $(STAMP)  ## smart crop vs centre crop on real photographs: subject kept in N of 20 formats per photo
	$(PY) -m benchmarks.smartcrop

bench-social: $(STAMP)  ## Social Optimizer export: naive vs pyvips vs ours, side by side (prints speedup and ratios last)
	$(PY) -m benchmarks.social

clean:
	rm -rf $(VENV) .venv-sam .local .aws-sam .pytest_cache .mypy_cache .ruff_cache
