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
export PYTHONPATH := $(CURDIR)/lambda_src

.PHONY: help venv build test test-python tf-checks tf-test fmt docs lint validate security demo bench \
        plan apply destroy status wake sleep token-create token-list token-revoke clean e2e e2e-negative local-up local-down

help: ## list the targets
	@grep -E '^[a-z][a-z -]*:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt lambda_src/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## create .venv with the pinned test and tool dependencies

build: build/sleepwake.zip ## build build/sleepwake.zip (deterministic) for every Lambda

build/sleepwake.zip: $(VENV)/.installed tools/build_lambda.py lambda_src/requirements.txt $(shell find lambda_src -name '*.py' -not -path '*/__pycache__/*')
	$(PY) tools/build_lambda.py

# tf-checks, pytest and e2e run side by side (each prints when it is done): pytest leaves a core idle much of the
# time, which Terraform's checks fill, and e2e mostly waits for the provider's polling (S3 lifecycle, SQS).
test: venv ## everything CI runs: Terraform fmt + validate + terraform test, pytest (moto), e2e, checkov
	$(MAKE) --no-print-directory -j 3 --output-sync=target tf-checks test-python e2e
	$(MAKE) --no-print-directory e2e-negative security
	@tools/tf_checks.sh --summary

test-python: venv ## pytest only
	$(PY) -m pytest -q -n 2 --dist loadfile

tf-checks: venv ## Terraform fmt, validate and terraform test everywhere, validations covered, README tables
	PY=$(PY) tools/tf_checks.sh

fmt: ## rewrite Terraform files (.tftest.hcl included) in canonical format, with Terraform 1.11.4
	tools/tf_fmt.sh

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
	$(PY) -m sleepwake.simulate --trace ../shared/traces --policy all

plan: build ## terraform plan ENV=dev
	$(TERRAFORM) -chdir=$(ENV_DIR) init -input=false
	$(TERRAFORM) -chdir=$(ENV_DIR) plan -out=tfplan

apply: ## terraform apply ENV=dev (the plan from `make plan`)
	$(TERRAFORM) -chdir=$(ENV_DIR) apply tfplan

destroy: ## terraform destroy ENV=dev (the manager's teardown deletes its endpoints first)
	$(TERRAFORM) -chdir=$(ENV_DIR) destroy

status wake sleep: venv ## call the deployed manager: make status ENV=dev [ENDPOINT=name] [FORCE=1 for sleep]
	@$(PY) tools/invoke_manager.py $@ --env $(ENV) --terraform $(TERRAFORM) \
	  $(if $(ENDPOINT),--endpoint $(ENDPOINT)) $(if $(FORCE),--force)

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
