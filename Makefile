# Entry points for people and CI. Every target builds .venv from this repo's own files first.
ENV ?= local
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLKIT := $(BIN)/toolkit
PYTEST_ARGS ?=
# `make test` runs the suite on this many pytest-xdist workers: the cores, at least 2 (the emulator tests
# mostly wait), at most 4; whole files per worker, the longest first (tests/conftest.py, LONGEST_FILES).
# PYTEST_WORKERS=0 runs it in this one process.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -lt 2 ] && n=2; [ $$n -gt 4 ] && n=4; echo $$n)
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder)
BENCH_ARGS ?=
EMULATOR ?=
# EMULATOR=1: against toolkit's own AWS emulator (moto, docs/emulator.md) instead of a real account.
EMULATOR_OPT := $(if $(filter 1 yes true,$(EMULATOR)),--emulator,)

.DEFAULT_GOAL := help
.PHONY: help venv env plan destroy status test test-fast lint bench mysql-server

help:
	@echo "make env [ENV=local]      stand the environment up (validate, terraform, migrations)"
	@echo "make env ENV=dev EMULATOR=1  the same for an AWS environment against a local AWS emulator"
	@echo "make plan [ENV=local]     show what 'make env' would change"
	@echo "make destroy [ENV=local]  tear the environment down"
	@echo "make status [ENV=local]   workspace, migrations, what is pending"
	@echo "make test                 install and run the whole test suite"
	@echo "make lint                 ruff, stack checks, CI files against their schemas, zizmor on the workflows, checkov on the stacks"
	@echo "make bench                benchmarks against peer tools (installs them); writes docs/benchmarks.md"

# The virtualenv is rebuilt only when pyproject.toml changes. The first time takes a minute or two, so it
# says what it does, and pip shows each package as it comes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "toolkit needs Python >= 3.11 (set PYTHON=...)")'
	@test -x $(BIN)/python || { echo "make: creating $(VENV) with $$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }
	@echo "make: installing toolkit and its dependencies into $(VENV) (the first time: a minute or two)"
	@$(BIN)/python -m pip uninstall --quiet --yes toolkit 2>/dev/null || true  # this repo's old distribution name
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off -e '.[dev]'
	@touch $(STAMP)
	@echo "make: $(VENV) is ready"

venv: $(STAMP)

env: $(STAMP)
	$(TOOLKIT) env up $(ENV) $(EMULATOR_OPT)

plan: $(STAMP)
	$(TOOLKIT) plan $(ENV) $(EMULATOR_OPT)

destroy: $(STAMP)
	$(TOOLKIT) env down $(ENV) $(EMULATOR_OPT)

status: $(STAMP)
	$(TOOLKIT) env status $(ENV) $(EMULATOR_OPT)

# The MySQL tests start a real MariaDB of their own; its binaries are installed where missing (needs root
# or passwordless sudo, Debian/Ubuntu). `make env` needs no MySQL.
mysql-server:
	@.ci/install-mariadb

test: $(STAMP) mysql-server
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# Installs its peers (npm, PyPI, Debian) into bench/.peers/ and takes tens of minutes; not part of `make test`.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# checkov gets a virtualenv of its own: its HCL parser installs a module named hcl2 that would shadow
# python-hcl2 in toolkit's. Rebuilt only when its pinned requirement changes.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: ci/checkov-requirements.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --disable-pip-version-check --progress-bar off --quiet -r ci/checkov-requirements.txt
	@touch $@

lint: $(STAMP) $(CHECKOV_VENV)/.installed
	$(BIN)/ruff check toolkit tests bench
	$(BIN)/ruff format --check toolkit tests bench
	$(TOOLKIT) stacks check
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.gitlab-ci ci/gitlab-ci.yml
	$(BIN)/zizmor --offline --persona=pedantic .github/workflows
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --directory terraform --framework terraform --quiet --compact --skip-download

# Full `terraform validate` of the AWS stacks. Needs internet (it downloads the AWS provider), so it is
# not part of `make test`; `toolkit stacks check` is the offline part and runs there. Each stack gets a
# throwaway TF_DATA_DIR; `init` writes terraform/aws/<stack>/.terraform.lock.hcl: commit it.
TERRAFORM ?= terraform
AWS_STACKS ?= infra pipelines
.PHONY: validate-aws
validate-aws:
	@set -e; for stack in $(AWS_STACKS); do \
	  data_dir=$$(mktemp -d); trap 'rm -rf "$$data_dir"' EXIT; \
	  echo "validate terraform/aws/$$stack"; \
	  TF_DATA_DIR=$$data_dir $(TERRAFORM) -chdir=terraform/aws/$$stack init -backend=false -input=false -no-color >/dev/null; \
	  TF_DATA_DIR=$$data_dir $(TERRAFORM) -chdir=terraform/aws/$$stack validate -no-color; \
	  rm -rf "$$data_dir"; \
	done
