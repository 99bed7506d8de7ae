# sagemaker-sleepwake: every command a user or CI needs. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TERRAFORM ?= terraform
TFLINT ?= tflint
ENV ?= dev
ENV_DIR := environments/$(ENV)
# `make local-up ENV=x` writes .local/x/local.mk (the emulator's endpoint and keys, the state's directory):
# while it is up, the commands below (status, wake, sleep, token-*) talk to that local deployment.
-include .local/$(ENV)/local.mk
TRACE ?= ../shared/traces/azure_functions_2019_1350_per_minute.csv

.PHONY: help venv build test static-checks python-checks test-python test-unit lint-python tf-checks tf-test fmt docs lint \
        validate security demo bench plan apply destroy status wake sleep report token-create token-list token-revoke \
        clean e2e e2e-negative local-up local-down

help: ## list the targets
	@grep -E '^[a-z][a-z -]*:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt lambda_src/requirements.txt pyproject.toml sim/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## create .venv with the pinned test and tool dependencies

build: build/sleepwake.zip ## build build/sleepwake.zip (deterministic) for every Lambda

build/sleepwake.zip: $(VENV)/.installed tools/build_lambda.py lambda_src/requirements.txt $(shell find lambda_src -name '*.py' -not -path '*/__pycache__/*')
	$(PY) tools/build_lambda.py

# Three lanes side by side (each prints when it is done): the static checks (Terraform, then checkov), pytest then
# the e2e cases that break a module on purpose, and e2e. pytest leaves a core idle much of the time, which
# Terraform's checks fill, and e2e mostly waits for the provider's polling (S3 lifecycle, SQS).
test: venv ## everything CI runs: ruff, Terraform fmt/validate/test, checkov, pytest (moto), e2e on the emulator
	$(MAKE) --no-print-directory lint-python
	$(MAKE) --no-print-directory -j 3 --output-sync=target static-checks python-checks e2e
	@tools/tf_checks.sh --summary

python-checks: venv ## pytest, then the e2e cases that break a module on purpose (one lane of `make test`)
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory e2e-negative

static-checks: venv ## the Terraform checks, then checkov (one lane of `make test`)
	$(MAKE) --no-print-directory tf-checks
	$(MAKE) --no-print-directory security

test-python: venv ## pytest, every marker (unit, moto, terraform, slow; e2e has its own target)
	$(PY) -m pytest -q -n 2 --dist worksteal

test-unit: venv ## the inner loop: pure-Python tests only (-m unit), under a minute; `$(PY) -m pytest --lf` reruns failures
	$(PY) -m pytest -q -n 2 --dist worksteal -m unit

tf-checks: venv ## Terraform fmt, validate and terraform test everywhere, validations covered, README tables
	PY=$(PY) tools/tf_checks.sh

fmt: venv ## rewrite Python (ruff) and Terraform files (.tftest.hcl included, with Terraform 1.11.4) in canonical format
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	tools/tf_fmt.sh

lint-python: venv ## ruff: lint and format check of every Python file (pyproject.toml [tool.ruff])
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

docs: venv ## regenerate the inputs/outputs tables in module READMEs (terraform-docs format)
	$(PY) tools/tfdocs.py

lint: tf-checks ## tflint with the AWS ruleset where installed (plus the Terraform checks)
	@if command -v $(TFLINT) >/dev/null 2>&1; then \
	  $(TFLINT) --config=$(CURDIR)/.config/.tflint.hcl --init && \
	  $(TFLINT) --config=$(CURDIR)/.config/.tflint.hcl --recursive; \
	else echo "lint: tflint is not installed here, so only the Terraform checks above ran"; fi

validate: ## terraform init -backend=false + validate in every module, example and environment; fails if any fails
	tools/tf_dirs.sh validate

tf-test: ## terraform test (mock providers) in every module and environment; module tests plan the examples
	tools/tf_dirs.sh test

security: ## checkov on the modules and environments (in its own virtualenv)
	tools/checkov.sh

demo: venv ## the manager on a local AWS emulator: request -> wake -> ready -> idle -> sleep
	$(PY) demo/demo.py

bench: venv ## idle policies on every trace under ../shared/traces: one table per file, r, the targets (README figures)
	$(PY) -m sleepwake_sim.simulate --trace ../shared/traces --policy all

plan: build ## terraform plan ENV=dev
	$(TERRAFORM) -chdir=$(ENV_DIR) init -input=false
	$(TERRAFORM) -chdir=$(ENV_DIR) plan -out=tfplan

apply: ## terraform apply ENV=dev (the plan from `make plan`)
	$(TERRAFORM) -chdir=$(ENV_DIR) apply tfplan

destroy: ## terraform destroy ENV=dev (the manager's teardown deletes its endpoints first)
	$(TERRAFORM) -chdir=$(ENV_DIR) destroy

status wake sleep report: venv ## call the deployed manager: make status|report ENV=dev [ENDPOINT=name] [FORCE=1 for sleep] [DAY=YYYY-MM-DD for report]
	@$(PY) tools/invoke_manager.py $@ --env $(ENV) --terraform $(TERRAFORM) \
	  $(if $(ENDPOINT),--endpoint $(ENDPOINT)) $(if $(FORCE),--force) $(if $(DAY),--day $(DAY))

# `@` and nothing else on stdout: TOKEN=$$(make token-create NAME=x ENV=dev) captures the token alone (the notes
# go to stderr).
token-create: venv ## gateway token, printed once: make token-create NAME=my-app [DAYS=90] ENV=dev
	@$(PY) tools/tokens.py --env $(ENV) --terraform $(TERRAFORM) create "$(NAME)" $(if $(DAYS),--expires-days $(DAYS))

token-list: venv ## list the gateway's tokens (names, creation, expiry): make token-list ENV=dev
	@$(PY) tools/tokens.py --env $(ENV) --terraform $(TERRAFORM) list

token-revoke: venv ## revoke a gateway token: make token-revoke NAME=my-app ENV=dev
	@$(PY) tools/tokens.py --env $(ENV) --terraform $(TERRAFORM) revoke "$(NAME)"

e2e: build ## every environment applied to a local emulator and driven end to end (ENV=dev|staging|prod for one)
	@mkdir -p .tools; status=0; \
	$(PY) -m pytest -q -m e2e tests/e2e/test_shims.py >.tools/e2e-shims.log 2>&1 & shims=$$!; \
	$(PY) -m tests.e2e.run --env $(if $(filter command line,$(origin ENV)),$(ENV),all) || status=1; \
	if wait $$shims; then echo "emulator shims: $$(tail -n 1 .tools/e2e-shims.log)"; \
	else cat .tools/e2e-shims.log; status=1; fi; exit $$status

e2e-negative: build ## e2e tests that break a module on purpose: a removed IAM action, a mistyped environment variable
	$(PY) -m pytest -q -m e2e -n 2 tests/e2e/test_e2e.py -k "missing or mistyped"

local-up: build ## the ENV deployment on a local emulator, left running: then make status|wake|sleep|token-* ENV=...
	$(PY) -m tests.e2e.local up --env $(ENV)

local-down: venv ## stop the local emulator of make local-up (ENV=...) and forget its state
	$(PY) -m tests.e2e.local down --env $(ENV)

clean: ## remove build output, virtualenvs and Terraform working directories
	rm -rf build $(VENV) .venv-checkov .pytest_cache .tools/terraform
	find modules examples environments -name .terraform -type d -prune -exec rm -rf {} +
