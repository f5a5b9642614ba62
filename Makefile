# Two commands on a fresh clone: `make demo` and `make test`.
# Each target bootstraps what it needs and skips what is already in place.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ECOMDWH := $(BIN)/ecomdwh

.DEFAULT_GOAL := help
.PHONY: help setup postgres-server browser demo test test-fast image-lock lint fmt sample bench lab docs image clean distclean tf-fmt tf-validate

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (AWS Glue 5.0 runs 3.11); set PYTHON=/path/to/python3.11")'
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,local]'
	@# JupyterLab's event schemas pull in jsonschema's optional IRI checker, which builds its grammars
	@# in every process that imports jsonschema (papermill, each kernel, GX, altair); nothing here checks IRIs.
	$(BIN)/pip uninstall --quiet --yes rfc3987-syntax
	@touch $@

setup: $(BIN)/.installed ## install the venv, the LocalStack and checkov venvs and the s3a jars (once)
	$(ECOMDWH) setup

demo: setup ## run the whole pipeline on the committed sample
	$(ECOMDWH) run

# The tests start a throwaway PostgreSQL from the machine's server binaries; apt brings them where missing.
postgres-server:
	@command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
		echo "installing the PostgreSQL server binaries (apt)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# The JupyterLab test drives the machine's headless Chromium through playwright, which must not download its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
		echo "installing Chromium for the headless JupyterLab test (apt)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Two workers (pytest-xdist), one per core (docs/performance.md: three were no faster): the tests reading the
# session's pipeline-built gold share one (group "gold"). The fast tests wait more than they compute
# (emulators, kernels, child processes), so three workers keep the two cores busy there.
TEST_WORKERS ?= 2
TEST_FAST_WORKERS ?= 3
PYTEST := $(BIN)/pytest --dist loadgroup

test: setup postgres-server browser lint ## lint, then the whole test suite (slow end-to-end tests included)
	$(PYTEST) -n $(TEST_WORKERS) --durations=40

test-fast: setup postgres-server ## the suite without the slow end-to-end tests
	$(PYTEST) -n $(TEST_FAST_WORKERS) -m "not slow"

# sqlfluff's dbt templater compiles the project with the local target, which opens (creates) a DuckDB file.
SQLFLUFF := mkdir -p .cache && cd dbt && ECOMDWH_DUCKDB_PATH=$(CURDIR)/.cache/sqlfluff.duckdb ../$(BIN)/sqlfluff

# The image's lock: pyproject.toml's dependencies resolved in a fresh venv, every package pinned.
image-lock: $(BIN)/.installed ## re-pin the pipeline image's packages (requirements/image.txt) after changing the dependencies
	rm -rf .cache/image-lock-venv && $(PYTHON) -m venv .cache/image-lock-venv
	.cache/image-lock-venv/bin/pip install --quiet --dry-run --ignore-installed --report .cache/image-report.json .
	$(BIN)/python -m ecomdwh.devtools.image_lock .cache/image-report.json requirements/image.txt

lint: $(BIN)/.installed ## ruff for the Python, which way its imports go, sqlfluff for the dbt SQL, hadolint for the Dockerfile
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(SQLFLUFF) lint models
	$(BIN)/hadolint Dockerfile

fmt: $(BIN)/.installed ## format the Python code and the dbt SQL
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(SQLFLUFF) fix models

sample: $(BIN)/.installed ## regenerate data_samples/ (byte-identical for the same code)
	$(ECOMDWH) generate --days 14 --orders-per-day 850 --seed 7 --bad-rate 0.02 --out data_samples/bronze

bench: setup ## performance benchmark, results in bench/results/
	$(ECOMDWH) bench

lab: setup ## JupyterLab on 127.0.0.1 with the project's kernel, on the repository, opened on notebooks/explore.ipynb (PORT=8888)
	$(ECOMDWH) lab $(if $(PORT),--port $(PORT))

docs: setup ## one offline docs site in reports/site/: dbt docs, every report, the Data Docs, the run history
	$(ECOMDWH) docs

# The pipeline image the ECS tasks run (Dockerfile; push and deploy: docs/deployment.md). Needs a Docker engine.
IMAGE ?= ecomdwh-pipeline
IMAGE_TAG ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
image: ## build the pipeline image, tagged with the git commit (needs Docker)
	@docker info >/dev/null 2>&1 || { echo "make image needs a running Docker engine (docker info fails here): build on a machine with Docker, or in CI." >&2; exit 1; }
	@test -n "$(IMAGE_TAG)" || { echo "make image tags the image with the git commit: run it in a git checkout, or set IMAGE_TAG=<tag>." >&2; exit 1; }
	docker build -t $(IMAGE):$(IMAGE_TAG) .

clean: ## stop the emulator and remove local state (keeps the venvs and jars)
	-$(ECOMDWH) emulator stop
	rm -rf .state reports

distclean: clean ## also remove the venvs and the downloaded jars
	rm -rf $(VENV) .cache

# Terraform (docs/deployment.md). fmt works offline; validate downloads the AWS provider, so it
# needs network (the offline checks are `pytest tests/terraform`). Provider data goes to .cache/.
TERRAFORM ?= terraform
TF_ENVS := dev prod

tf-fmt: ## format terraform/
	$(TERRAFORM) fmt -recursive terraform/

tf-validate: ## terraform init -backend=false && validate, per environment (needs network)
	@for env in $(TF_ENVS); do \
		echo "terraform/environments/$$env:"; \
		export TF_DATA_DIR="$(CURDIR)/.cache/terraform/$$env"; \
		$(TERRAFORM) -chdir=terraform/environments/$$env init -backend=false -input=false >/dev/null \
			&& $(TERRAFORM) -chdir=terraform/environments/$$env validate || exit 1; \
	done
