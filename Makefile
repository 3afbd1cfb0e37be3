# Kyoso: `make run` (local chain + contracts + API) and `make test` (every test). Both install what is missing.
# Installs are stamped, so a second run skips them: the Python environment is rebuilt only when
# requirements/lock.txt changes, node_modules only when package-lock.json changes, .venv-slither and .venv-fuzz only
# when requirements/slither-lock.txt or requirements/fuzz-lock.txt change.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
TESTS ?= tests
PYTEST_ARGS ?=

# The solc version comes from package.json (npm `solc`), so the adapter's name always matches the compiler.
SOLC_VERSION := $(shell sed -n 's/.*"solc": *"\([0-9.]*\)".*/\1/p' package.json)
SOLC_ADAPTER := .solcx/solc-v$(SOLC_VERSION)
# Anvil's native binary from its npm platform package, linked so that signals and kills reach Anvil itself,
# not the Node wrapper in node_modules/.bin.
ANVIL := .bin/anvil
PY_STAMP := $(VENV)/.kyoso-lock.txt
NODE_STAMP := node_modules/.kyoso-installed
# Slither has an environment of its own (requirements/README.md says why). It is called by its path, never put on
# PATH: its solc-select dependency ships a `solc` command that py-solc-x would otherwise pick up.
SLITHER_VENV := .venv-slither
SLITHER_STAMP := $(SLITHER_VENV)/.kyoso-lock.txt
# So has schemathesis, the API fuzzer (it needs a newer hypothesis than brownie pins), called by its path too.
FUZZ_VENV := .venv-fuzz
FUZZ_STAMP := $(FUZZ_VENV)/.kyoso-lock.txt
# `make fuzz`: the long run of tests/fuzz (the quick one in `make test` tries fewer examples per operation).
FUZZ_EXAMPLES ?= 300
FUZZ_TIME_S ?= 900
CHROMIUM := /usr/bin/chromium
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)

export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/.bin:$(CURDIR)/node_modules/.bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup run test slither fuzz networks lock lock-slither lock-fuzz clean bench bench-gas bench-burst bench-votes bench-reads bench-scale bench-floor bench-flood bench-report bench-faults bench-hostile bench-soak deploy system-packages

help:
	@echo "make run    start Anvil, deploy the contracts, serve the API on http://127.0.0.1:8000 (FRESH=1: new chain)"
	@echo "make test   run Slither and every test (TESTS=path/to/test_file.py to run one file)"
	@echo "make slither  static analysis of contracts/ (fails on any finding not triaged in docs/slither.md)"
	@echo "make fuzz   schemathesis against every API operation of a running stack, $(FUZZ_EXAMPLES) examples each"
	@echo "make setup  install what is missing (Python venv from requirements/lock.txt, npm ci, solc adapter)"
	@echo "make deploy NETWORK=kyoso-sepolia [DRY_RUN=1] [FRESH=1]  deploy to a testnet (docs/deploy.md)"
	@echo "make bench  every benchmark below, each on its own Anvil and database (bench/results/*.json, docs/benchmarks.md)"
	@echo "make bench-gas  gas of the contracts against the OpenZeppelin composition (bench/results/gas.json)"
	@echo "make bench-burst [CLAIMS=10000] festival burst, batched vs naive relayer vs 2 s blocks (bench/results/burst.json)"
	@echo "make bench-votes [VOTERS=1000]  gasless votes on one proposal (bench/results/votes.json)"
	@echo "make bench-reads [MEMBERS=10000] gallery and proposal pages with 100,000 badges (bench/results/reads.json)"
	@echo "make bench-floor  the API's CPU per request (claim, /api/me) next to a bare FastAPI app (bench/results/floor.json)"
	@echo "make bench-scale [SCALE_CLAIMS=3000]  the burst on 1 and 2 worker processes, SQLite and PostgreSQL (bench/results/scale.json)"
	@echo "make bench-flood  one organization's 500 events and 5,000 claims against another's 300 claims (bench/results/flood.json)"
	@echo "make bench-faults [FAULT_CLAIMS=400 FAULT_KILLS=10]  the fault-injection tests at a larger size"
	@echo "make bench-hostile [HOSTILE_CLAIMS=3000]  the burst with 1% own wallets that turn badges down, and without (bench/results/hostile.json)"
	@echo "make bench-soak [SOAK_MINUTES=30]  reorgs and RPC faults on 2 s blocks, 5,000 claims, 500 votes (bench/results/soak.json)"
	@echo "make i18n-extract i18n-update i18n-compile  texts: code -> messages.pot -> ja/en .po catalogs -> .mo"
	@echo "make lock   rebuild requirements/lock.txt from pyproject.toml"
	@echo "make lock-slither  rebuild requirements/slither-lock.txt from requirements/slither.in"
	@echo "make lock-fuzz  rebuild requirements/fuzz-lock.txt from requirements/fuzz.in"

setup: $(PY_STAMP) $(NODE_STAMP) $(SOLC_ADAPTER) $(ANVIL) networks

# Translations (backend/i18n): the .po catalogs are the source, their compiled .mo files are built here (not
# committed) and rebuilt only when a .po changes. After new texts or error codes in the code: i18n-extract,
# i18n-update, translate the new entries of both catalogs (tests/i18n fails until then), i18n-compile.
I18N := backend/i18n
PYBABEL := $(VENV)/bin/pybabel
I18N_MO := $(patsubst %.po,%.mo,$(wildcard $(I18N)/locales/*/LC_MESSAGES/messages.po))
.PHONY: i18n-extract i18n-update i18n-compile

setup: $(I18N_MO)

i18n-extract: $(PY_STAMP)
	$(PYBABEL) -q extract -F $(I18N)/babel.cfg --no-location --sort-output --no-wrap --project=Kyoso --version=1 \
	  --copyright-holder=Kyoso --msgid-bugs-address=kyoso@example.invalid -o $(I18N)/messages.pot backend

# No fuzzy matching: message ids are keys, and a similar key's text is no translation of a new one.
i18n-update: $(PY_STAMP)
	$(PYBABEL) -q update -i $(I18N)/messages.pot -d $(I18N)/locales -D messages --no-wrap --no-fuzzy-matching

i18n-compile: $(I18N_MO)

$(I18N)/locales/%/LC_MESSAGES/messages.mo: $(I18N)/locales/%/LC_MESSAGES/messages.po | $(PY_STAMP)
	$(PYBABEL) -q compile -i $< -o $@ -l $*

# The project itself goes in too (editable, nothing resolved): it puts the operator's `kyoso` command (pyproject.toml
# [project.scripts], backend/admin.py) into .venv/bin.
$(PY_STAMP): requirements/lock.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Kyoso needs Python 3.11 ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-deps --disable-pip-version-check -r requirements/lock.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --disable-pip-version-check -e .
	@cp requirements/lock.txt $@

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "Kyoso needs Node.js 20+ and npm"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(SOLC_ADAPTER): | $(NODE_STAMP)
	@mkdir -p .solcx
	@rm -f .solcx/solc-v*
	ln -s ../tools/solc/solc.js $@

$(ANVIL): | $(NODE_STAMP)
	@mkdir -p .bin
	@binary=$$(ls node_modules/@foundry-rs/anvil-*/bin/anvil 2>/dev/null | head -n 1); \
	  test -n "$$binary" || { echo "No Anvil binary for this platform in node_modules/@foundry-rs"; exit 1; }; \
	  ln -sfn "../$$binary" $@ && $@ --version | head -n 1

# A tool's own environment ($(1)) from its lock ($(2)), rebuilt from scratch when the lock changes, so that it is
# exactly the lock (it takes ~15 s).
define tool_venv
	@command -v $(PYTHON) >/dev/null || { echo "Kyoso needs Python 3.11 ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	rm -rf $(1)
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --no-deps --disable-pip-version-check -r $(2)
	@cp $(2) $@
endef

$(SLITHER_STAMP): requirements/slither-lock.txt
	$(call tool_venv,$(SLITHER_VENV),$<)

$(FUZZ_STAMP): requirements/fuzz-lock.txt
	$(call tool_venv,$(FUZZ_VENV),$<)

# Brownie keeps networks in ~/.brownie/network-config.yaml; this adds or updates the project's networks there.
networks: $(PY_STAMP)
	@$(PY) tools/ensure_networks.py

run: setup
	@$(PY) tools/run_stack.py

# Static analysis of contracts/ (tools/slither_check.py, docs/slither.md). Slither compiles through the project's
# solc-js adapter with brownie-config.yaml's settings, so nothing is downloaded; it fails on any finding not
# triaged in slither.triage.json.
slither: $(PY_STAMP) $(NODE_STAMP) $(SOLC_ADAPTER) $(SLITHER_STAMP)
	@$(PY) tools/slither_check.py $(SLITHER_VENV)/bin/slither $(SOLC_ADAPTER)

# `make test` runs two pytest processes side by side, as most of either's time is spent waiting for blocks, pages
# and processes: the chain's tests on brownie's kyoso-test network, and the tests that need no brownie network (the
# rules, the catalogs, and the whole-stack tests that start `make run` or a benchmark's stack themselves on free
# ports). The second one's report follows the first's. `make test TESTS=...` runs the tests given, in one process.
NO_CHAIN_TESTS := tests/services tests/i18n tests/web tests/fuzz tests/bench tests/foundation/test_make_run.py \
  tests/foundation/test_layout.py tests/foundation/test_redaction.py
test: setup slither system-packages $(FUZZ_STAMP)
ifeq ($(TESTS),tests)
	@log=$$(mktemp); chainlog=$$(mktemp); \
	  $(PY) -m pytest $(NO_CHAIN_TESTS) -p no:pytest-brownie $(PYTEST_ARGS) > $$log 2>&1 & other=$$!; \
	  $(PY) -m pytest tests $(addprefix --ignore=,$(NO_CHAIN_TESTS)) --network kyoso-test $(PYTEST_ARGS) 2>&1 \
	    | tee $$chainlog; chain=$${PIPESTATUS[0]}; \
	  wait $$other; rc=$$?; \
	  echo; echo "=== the tests without the chain's network: $(NO_CHAIN_TESTS) ==="; cat $$log; \
	  echo; echo "=== both runs in short (chain's network: exit $$chain; without it: exit $$rc) ==="; \
	  grep -hE '^(FAILED|ERROR|INTERNALERROR> [A-Za-z]+Error)|^=+ .*(passed|failed|error).* =+$$' $$chainlog $$log; \
	  rm -f $$log $$chainlog; \
	  test $$chain -eq 0 && test $$rc -eq 0
else
	$(PY) -m pytest $(TESTS) --network kyoso-test $(PYTEST_ARGS)
endif

# Debian packages the tests need, installed in one go when any is missing: the browser tests drive Debian's Chromium
# (never a browser download) and need Japanese fonts to render pages; the scale-out tests start a PostgreSQL server
# of their own from Debian's binaries (tools/devstack/postgres.py), so the package must not create and start a cluster.
system-packages:
	@missing=""; \
	  test -x $(CHROMIUM) || missing="$$missing chromium fonts-noto-cjk"; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  if [ -n "$$missing" ]; then \
	    echo "Installing Debian packages for the tests:$$missing"; \
	    $(SUDO) mkdir -p /etc/postgresql-common/createcluster.d; \
	    echo "create_main_cluster = false" | $(SUDO) tee /etc/postgresql-common/createcluster.d/kyoso.conf >/dev/null; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	  fi

# The API fuzz test (tests/fuzz, docs/backend.md "Hostile input") with more examples: it starts its own stack on
# free ports and needs no brownie network.
fuzz: setup $(FUZZ_STAMP)
	KYOSO_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) KYOSO_FUZZ_TIME_S=$(FUZZ_TIME_S) \
	  $(PY) -m pytest tests/fuzz -p no:pytest-brownie $(PYTEST_ARGS)

# Deploys the suite to a network of tools/networks.yaml and writes deployments/<chain-id>.json (docs/deploy.md).
deploy: setup
	@test -n "$(NETWORK)" || { echo "usage: make deploy NETWORK=<kyoso-sepolia|kyoso-base-sepolia|kyoso-polygon-amoy|kyoso-soneium-minato> [DRY_RUN=1] [FRESH=1]"; exit 2; }
	@$(PY) tools/brownie_run.py scripts/deploy.py --network $(NETWORK) -- $(if $(filter 1,$(DRY_RUN)),--dry-run) $(if $(filter 1,$(FRESH)),--fresh)

# The fault-injection tests at a larger size: 400 claims, ten SIGKILLs at random moments, the 30 s node stall and
# the PostgreSQL takeover; zero lost and zero duplicated is asserted as in `make test`.
FAULT_CLAIMS ?= 400
FAULT_KILLS ?= 10
bench-faults: setup system-packages
	KYOSO_FAULT_CLAIMS=$(FAULT_CLAIMS) KYOSO_FAULT_KILLS=$(FAULT_KILLS) KYOSO_FAULT_SEED=$$RANDOM \
	  KYOSO_RPC_FAULT_CLAIMS=1000 \
	  $(PY) -m pytest tests/backend/test_restart_safety.py tests/backend/test_chain_faults.py \
	  tests/backend/test_rpc_faults.py tests/backend/test_scale_out.py --network kyoso-test -s $(PYTEST_ARGS)

# Benchmarks (docs/benchmarks.md). Each starts an Anvil of its own on a free port (never 8545 or 8546), so they can
# run beside `make run` and `make test`.
CLAIMS ?= 10000
CLIENTS ?= 100
VOTERS ?= 1000
MEMBERS ?= 10000
SCALE_CLAIMS ?= 3000

bench: bench-gas bench-burst bench-votes bench-reads bench-scale bench-floor bench-flood bench-hostile bench-faults
	$(PY) bench/report.py

# Gas of the Kyoso contracts against the obvious OpenZeppelin composition -> bench/results/gas.json
bench-gas: setup
	$(PY) bench/run_gas.py

bench-burst: setup
	$(PY) bench/burst.py --claims $(CLAIMS) --clients $(CLIENTS)

bench-votes: setup
	$(PY) bench/votes.py --voters $(VOTERS) --clients $(CLIENTS)

bench-reads: setup
	$(PY) bench/reads.py --members $(MEMBERS)

# The API's CPU per request next to a bare FastAPI app's -> bench/results/floor.json
bench-floor: setup
	$(PY) bench/floor.py

# The burst against 1 and 2 worker processes, on SQLite and on PostgreSQL -> bench/results/scale.json
bench-scale: setup system-packages
	$(PY) bench/scale.py --claims $(SCALE_CLAIMS) --clients $(CLIENTS)

# One organization's flood (500 events, 5,000 codes and claims) against another's 300 claims, with the relayer as it
# ships and as it was before issue #17, each with its own baseline -> bench/results/flood.json (a few minutes)
bench-flood: setup
	$(PY) bench/flood.py --modes fair,unbounded

# The burst with 1% of the claims from own wallets whose hook turns badges down, against the same burst without them
# -> bench/results/hostile.json (a few minutes)
HOSTILE_CLAIMS ?= 3000
bench-hostile: setup
	$(PY) bench/hostile.py --claims $(HOSTILE_CLAIMS) --clients $(CLIENTS)

# Half an hour of a public chain's bad days on 2 s blocks: random reorgs (depth <= 3) and RPC faults while 5,000
# claims and 500 votes flow; fails on anything lost, duplicated, or an indexer over 60 s behind -> bench/results/
# soak.json (~40 min with set-up and settling; not part of make bench)
SOAK_MINUTES ?= 30
bench-soak: setup
	$(PY) bench/soak.py --minutes $(SOAK_MINUTES)

# Rewrites the end-to-end tables of docs/benchmarks.md from bench/results/*.json
bench-report:
	$(PY) bench/report.py

lock:
	tools/lock.sh

lock-slither:
	tools/slither-lock.sh

lock-fuzz:
	tools/fuzz-lock.sh

clean:
	rm -rf build .kyoso reports .pytest_cache
