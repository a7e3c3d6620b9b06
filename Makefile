# Developer entry points. The README's quick start is `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# One test "leg" is a Python + ansible-core pair. The default leg is the floor
# (Python 3.11, ansible-core 2.19); `.ci/test-all` also runs the newest pair with
# PYTHON=<newest python> VENV=.venv-next REQUIREMENTS=requirements/next.txt.
PYTHON ?= python3.11
VENV ?= .venv
REQUIREMENTS ?= requirements/dev.txt
BIN := $(VENV)/bin
PY_VERSION = $(shell $(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# ansible-test needs the collection at ansible_collections/exchange/ews; each leg gets
# its own copy of the tracked tree (sandbox, bench and the chaos suite are not collection content).
TEST_TREE ?= build/ansible-test$(VENV:.venv%=%)/ansible_collections/exchange/ews
# Ansible finds the working tree itself through this symlinked collections path.
COLLECTIONS := build/collections
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)

.PHONY: help venv collection test-tree demo test sanity units integration security sandbox-tests chaos quality lint bench clean

help:
	@echo "make demo   - send a draft through the collection against a local EWS sandbox"
	@echo "make test   - the whole test suite (what CI runs)"
	@echo "make security - secret-leak and hostile-server tests: ansible-playbook -vvvv (part of make test)"
	@echo "make chaos  - randomized trials against the sandbox, EWS and Graph (TRIALS=500 each, SEED=1, BACKENDS=ews,graph), docs/reliability.md"
	@echo "make quality - lint, packaging, AWX/ansible-runner and runbook checks (part of make test)"
	@echo "make bench  - benchmarks, writes docs/performance.md"

$(BIN)/.installed: $(REQUIREMENTS) requirements/runtime.txt requirements/test.txt sandbox/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r $(REQUIREMENTS)
	$(BIN)/python -m pip install -q --no-deps -e sandbox
	.ci/install-get-pip-standin $(BIN)/python
	touch $@

venv: $(BIN)/.installed

collection: venv
	mkdir -p $(COLLECTIONS)/ansible_collections/exchange
	ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/exchange/ews

test-tree:
	rm -rf $(TEST_TREE) && mkdir -p $(TEST_TREE)
	git ls-files -z --cached --others --exclude-standard -- . ':!sandbox' ':!bench' ':!tests/chaos' \
	  | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' \
	  | tar --null -T - -cf - | tar -xf - -C $(TEST_TREE)
	# Its own git index, or ansible-test would find this repository's .git above the
	# copy, where build/ is ignored, and see no files at all.
	cd $(TEST_TREE) && git init -q && git add -A

demo: collection
	$(BIN)/python tests/utils/with_sandbox.py -- $(BIN)/ansible-playbook playbooks/demo.yml

sandbox-tests: venv
	$(BIN)/python -m pytest -q -n 2 sandbox/tests

# Randomized trials of send_item against one sandbox (tests/chaos), TRIALS per backend of BACKENDS (EWS, and
# Microsoft Graph with api: graph); .ci/test-all runs a short smoke of it.
TRIALS ?= 500
SEED ?= 1
BACKENDS ?= ews,graph
chaos: collection
	PYTHONPATH=$(COLLECTIONS) $(BIN)/python -m pytest -q -p no:cacheprovider tests/chaos
	PYTHONPATH=$(COLLECTIONS) $(BIN)/python tests/chaos/chaos.py --seed $(SEED) --trials $(TRIALS) --backends $(BACKENDS)

sanity: venv test-tree
	cd $(TEST_TREE) && $(CURDIR)/$(BIN)/ansible-test sanity --venv --python $(PY_VERSION) --color no

units: venv test-tree
	cd $(TEST_TREE) && $(CURDIR)/$(BIN)/ansible-test units --local --python $(PY_VERSION) --color no

integration: venv test-tree
	$(BIN)/python tests/utils/with_sandbox.py --integration-config $(TEST_TREE)/tests/integration/integration_config.yml -- \
	  bash -c 'cd $(TEST_TREE) && $(CURDIR)/$(BIN)/ansible-test integration --local --python $(PY_VERSION) --color no'

# Hostile servers and hostile input (tests/security): real ansible-playbook -vvvv runs through every
# module and the lookup against the sandbox and a hostile local server, searched for every form of
# every secret, plus the resource bounds measured on module processes. The tests import the
# hostile server from the collection (tests/unit/utils), hence PYTHONPATH.
security: collection
	PYTHONPATH=$(CURDIR)/$(COLLECTIONS) $(BIN)/python -m pytest -q -p no:cacheprovider tests/security

# The collection as users meet it: ansible-lint (production), docs lint and site, the built
# tarball installed fresh, the execution environment definition, ansible-runner with
# AWX-style credentials, every runbook. Its own venv (build/venv-quality): ansible-lint
# needs newer pins than the test legs.
quality:
	tests/quality/all.sh

lint:
	tests/quality/venv.sh && tests/quality/lint.sh

test: venv
	.ci/test-all

# matplotlib (for the plot) only where benchmarks run, not in every test leg.
$(BIN)/.bench-installed: $(BIN)/.installed requirements/bench.txt
	$(BIN)/python -m pip install -q -r requirements/bench.txt
	touch $@

bench: collection $(BIN)/.bench-installed
	$(BIN)/python bench/run.py

clean:
	rm -rf build tests/output .sandbox-data .venv-next
