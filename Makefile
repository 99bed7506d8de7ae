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
TRACE ?= ../shared/traces/azure_functions_2019_1350_per_minute.csv
export PYTHONPATH := $(CURDIR)/lambda_src

.PHONY: help venv build test test-python tf-checks fmt docs lint validate security demo bench \
        plan apply destroy status wake sleep token-create token-list token-revoke clean

help: ## list the targets
	@grep -E '^[a-z][a-z -]*:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt lambda_src/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## create .venv with the pinned test and tool dependencies

build: venv ## build build/sleepwake.zip (deterministic) for every Lambda
	$(PY) tools/build_lambda.py

test: venv ## everything CI runs: Terraform fmt + schema + module checks, pytest (moto), checkov
	$(MAKE) --no-print-directory tf-checks
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory security

test-python: venv ## pytest only
	$(PY) -m pytest -q -n 2 --dist loadfile

tf-checks: venv ## offline Terraform checks: fmt, every resource against the provider schema, module calls
	tools/tf_fmt.sh --check
	$(PY) tools/tfcheck.py
	$(PY) tools/tfdocs.py --check

fmt: venv ## rewrite Terraform files in canonical format
	tools/tf_fmt.sh

docs: venv ## regenerate the inputs/outputs tables in module READMEs (terraform-docs format)
	$(PY) tools/tfdocs.py

lint: tf-checks ## tflint with the AWS ruleset where installed (plus the offline checks)
	@if command -v $(TFLINT) >/dev/null 2>&1; then \
	  $(TFLINT) --config=$(CURDIR)/.config/.tflint.hcl --init && \
	  $(TFLINT) --config=$(CURDIR)/.config/.tflint.hcl --recursive; \
	else echo "lint: tflint is not installed here, so only the offline checks above ran"; fi

validate: tf-checks ## real `terraform validate` of every module and environment where providers can be downloaded
	@if ! command -v $(TERRAFORM) >/dev/null 2>&1; then \
	  echo "validate: terraform is not installed here, so only the offline checks above ran"; exit 0; fi; \
	for dir in modules/* environments/*; do \
	  if ! $(TERRAFORM) -chdir=$$dir init -backend=false -input=false >/tmp/sleepwake-init.log 2>&1; then \
	    echo "validate: terraform init failed in $$dir (no network to the provider registry?), so only the offline checks above ran:"; \
	    tail -n 5 /tmp/sleepwake-init.log; exit 0; fi; \
	  $(TERRAFORM) -chdir=$$dir validate; \
	done

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
	$(PY) tools/invoke_manager.py $@ --env $(ENV) --terraform $(TERRAFORM) \
	  $(if $(ENDPOINT),--endpoint $(ENDPOINT)) $(if $(FORCE),--force)

token-create: venv ## gateway token, printed once: make token-create NAME=my-app [DAYS=90] ENV=dev
	$(PY) tools/tokens.py --env $(ENV) --terraform $(TERRAFORM) create "$(NAME)" $(if $(DAYS),--expires-days $(DAYS))

token-list: venv ## list the gateway's tokens (names, creation, expiry): make token-list ENV=dev
	$(PY) tools/tokens.py --env $(ENV) --terraform $(TERRAFORM) list

token-revoke: venv ## revoke a gateway token: make token-revoke NAME=my-app ENV=dev
	$(PY) tools/tokens.py --env $(ENV) --terraform $(TERRAFORM) revoke "$(NAME)"

clean: ## remove build output and virtualenvs
	rm -rf build $(VENV) .venv-checkov .pytest_cache
