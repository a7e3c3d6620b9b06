# Developer entry points. The README's quick start is `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The newest Python the machine offers, for the "next" leg (ansible-core's newest release).
NEXT_PYTHON ?= $(shell .ci/find-python 3.13 3.12)
NEXT_VENV := .venv-next

# ansible-test needs the collection at ansible_collections/exchange/ews; it gets a copy
# of the tracked tree (sandbox and bench are not collection content, see galaxy.yml).
TEST_TREE := build/ansible-test/ansible_collections/exchange/ews
# Ansible finds the working tree itself through this symlinked collections path.
COLLECTIONS := build/collections
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)

.PHONY: help venv next-venv collection demo test test-next sanity units integration \
        sandbox-tests bench lint clean

help:
	@echo "make demo   - send a draft through the collection against a local EWS sandbox"
	@echo "make test   - the whole test suite (what CI runs)"
	@echo "make bench  - benchmarks, writes docs/performance.md"

$(BIN)/.installed: requirements/dev.txt requirements/runtime.txt sandbox/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements/dev.txt
	$(BIN)/python -m pip install -q --no-deps -e sandbox
	.ci/install-get-pip-standin $(BIN)/python
	touch $@

venv: $(BIN)/.installed

collection: venv
	mkdir -p $(COLLECTIONS)/ansible_collections/exchange
	ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/exchange/ews

test-tree:
	rm -rf $(TEST_TREE) && mkdir -p $(TEST_TREE)
	git ls-files -z --cached --others --exclude-standard -- . ':!sandbox' ':!bench' \
	  | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' \
	  | tar --null -T - -cf - | tar -xf - -C $(TEST_TREE)

demo: collection
	$(BIN)/python tests/utils/with_sandbox.py -- $(BIN)/ansible-playbook playbooks/demo.yml

sandbox-tests: venv
	$(BIN)/python -m pytest -q -n 2 sandbox/tests

sanity: venv test-tree
	cd $(TEST_TREE) && $(CURDIR)/$(BIN)/ansible-test sanity --venv --python 3.11 --color no

units: venv test-tree
	cd $(TEST_TREE) && $(CURDIR)/$(BIN)/ansible-test units --local --python 3.11 --color no

integration: venv test-tree
	$(BIN)/python tests/utils/with_sandbox.py --integration-config $(TEST_TREE)/tests/integration/integration_config.yml -- \
	  bash -c 'cd $(TEST_TREE) && $(CURDIR)/$(BIN)/ansible-test integration --local --python 3.11 --color no'

test: venv
	.ci/test-all

bench: collection
	$(BIN)/python bench/run.py

clean:
	rm -rf build tests/output .sandbox-data
