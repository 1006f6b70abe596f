# Two commands on a fresh machine: `make run` and `make test`. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
# USER is also the shell's login name: only a USER given on the command line picks the token's user.
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),dev-user)
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt layers/dependencies/requirements.txt | sha1sum | cut -c1-12)
# The Lambda runtime is python3.12 (template.yaml): the unit suite also runs on a 3.12 found here
# (pyenv's, else python3.12 on PATH), in its own venv holding the layer's packages and the test tools.
PYTHON312 ?= $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.12.*/bin/python) $(shell command -v python3.12 2>/dev/null))
VENV312 := .venv-py312
# what the unit suite imports besides the layer (its stamp changes with this list)
UNIT312_PACKAGES := moto|pyjwt|pyyaml|pytest|hypothesis|opencv-python-headless|scikit-image
STAMP312 := $(VENV312)/.installed-$(shell (cat requirements-dev.txt layers/dependencies/requirements.txt; echo '$(UNIT312_PACKAGES)') | sha1sum | cut -c1-12)
FUZZ_EXAMPLES ?= 12

.PHONY: studio-publish browser browser-deps bench-batches bench-compression bench-smartcrop bench-social bench-transitions run reset redrive test token lint typecheck template-check sam-validate unit unit-py312 fuzz integration flows bench clean install

install: $(STAMP)

$(STAMP): requirements-dev.txt layers/dependencies/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2> >(grep -v "is ignored" >&2)
	$(PY) -m pip install -q -r requirements-dev.txt 2> >(grep -v "is ignored" >&2)
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)  ## start the whole system offline on http://127.0.0.1:$(PORT)
	$(PY) -m local run --port $(PORT)

reset: $(STAMP)  ## forget what make run kept under .local/data: the next start is empty
	$(PY) -m local reset

redrive: $(STAMP)  ## re-drive the running offline stack's dead-letter queues (QUEUE=on_upload; default all)
	$(PY) -m local redrive --port $(PORT) --queue $(or $(QUEUE),all)

token: $(STAMP)  ## print a dev JWT for USER (last line)
	@$(PY) -m local token --user "$(TOKEN_USER)" $(if $(GROUPS),--groups "$(GROUPS)") $(if $(CLIENT),--client "$(CLIENT)")

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

test: lint typecheck template-check browser-deps  ## everything: ruff, mypy, cfn-lint + sam validate + ASL checks, pytest (browser tests included), fuzz, 3.12
	$(PY) -m pytest
	$(MAKE) --no-print-directory fuzz
	$(MAKE) --no-print-directory unit-py312

# schemathesis over our own OpenAPI document, every operation, against the offline stack (about 2-3 min).
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/fuzz -p no:randomly

$(STAMP312): requirements-dev.txt layers/dependencies/requirements.txt
	test -x $(VENV312)/bin/python || $(PYTHON312) -m venv $(VENV312)
	grep -E '^($(UNIT312_PACKAGES))\b' requirements-dev.txt > $(VENV312)/requirements-unit.txt
	$(VENV312)/bin/python -m pip install -q -r layers/dependencies/requirements.txt \
	  -r $(VENV312)/requirements-unit.txt 2> >(grep -v "is ignored" >&2)
	rm -f $(VENV312)/.installed-* && touch $@

unit-py312:  ## the unit suite on Python 3.12, the Lambda runtime's version
	@if [ -z "$(PYTHON312)" ]; then echo "no Python 3.12 found (pyenv or PATH): unit suite on 3.12 skipped"; \
	else $(MAKE) --no-print-directory $(STAMP312) && $(VENV312)/bin/python -m pytest tests/unit -p no:cacheprovider; fi

# The Studio's browser tests run Debian's chromium (Playwright's own download is not reachable from
# CI): installed when missing, and a loud failure when it cannot be, never a silent skip.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "chromium is missing: installing Debian's package for the browser tests"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	}
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "ERROR: chromium could not be installed (apt-get install -y chromium): the browser tests need it" >&2; exit 1; }

browser: $(STAMP) browser-deps  ## the Studio page in headless chromium against the offline stack (screenshots in tests/browser/artifacts/)
	$(PY) -m pytest tests/browser

unit: $(STAMP)
	$(PY) -m pytest tests/unit
integration: $(STAMP)
	$(PY) -m pytest tests/integration
flows: $(STAMP)
	$(PY) -m pytest tests/flows

bench: $(STAMP)
	$(PY) -m benchmarks
	$(PY) -m benchmarks.transitions
	$(PY) -m benchmarks.compression

bench-transitions: $(STAMP)
	$(PY) -m benchmarks.transitions

bench-batches: $(STAMP)  ## a 20-row batch at concurrency 1, 4, 10 vs 40 direct calls (prints speedups last)
	$(PY) -m benchmarks.batches

bench-compression: $(STAMP)  ## a 12 MP photo to target sizes: ours vs a plain quality sweep (prints speedup last)
	$(PY) -m benchmarks.compression

bench-smartcrop: $(STAMP)  ## smart crop vs centre crop on real photographs: subject kept in N of 20 formats per photo
	$(PY) -m benchmarks.smartcrop

bench-social: $(STAMP)  ## Social Optimizer export: naive vs pyvips vs ours, side by side (prints speedup and ratios last)
	$(PY) -m benchmarks.social

# Deployed, the Studio page is static files in the stack's private StudioBucket behind CloudFront.
studio-publish:  ## upload web/ and its config.json to a deployed stack: make studio-publish STACK=<name>
	@test -n "$(STACK)" || { echo "usage: make studio-publish STACK=<stack name>" >&2; exit 1; }
	@out() { aws cloudformation describe-stacks --stack-name "$(STACK)" \
	    --query "Stacks[0].Outputs[?OutputKey=='$$1'].OutputValue" --output text; }; \
	bucket=$$(out StudioBucketName) && dist=$$(out StudioDistributionId) && \
	aws s3 sync web/ "s3://$$bucket/studio/" --delete --exclude config.json --cache-control no-cache && \
	out StudioConfig | aws s3 cp - "s3://$$bucket/studio/config.json" \
	    --content-type application/json --cache-control no-cache && \
	aws cloudfront create-invalidation --distribution-id "$$dist" --paths "/studio/*" >/dev/null && \
	echo "The Studio is at $$(out StudioUrl)"

clean:
	rm -rf $(VENV) $(VENV312) .venv-sam .local .aws-sam .pytest_cache .mypy_cache .ruff_cache
