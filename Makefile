# The README's two commands: `make demo` runs the scheduled workflow locally, `make test` runs every test.
.PHONY: setup demo test lint unit emulator-tests e2e start stop bench package workflow

PYTHON := local/.venv/bin/python
TOOLS := local/.tools/bin

setup:
	local/setup.sh

# The whole workflow against a fresh local stack with seeded demo resources.
demo: setup
	local/demo.sh

# Each step runs through local/phase.sh, which prints how long it took; `make test` ends with the table.
PHASE := local/phase.sh

# Everything CI runs: static checks, unit, property and emulator tests, the end-to-end workflow tests,
# then the demo itself.
test:
	@$(PHASE) --reset
	$(MAKE) --no-print-directory setup lint unit emulator-tests e2e
	$(PHASE) demo local/demo.sh
	@$(PHASE) --summary

lint:
	$(PHASE) fmt cargo fmt --all --check
	$(PHASE) clippy cargo clippy --workspace --all-targets --locked -- -D warnings
	$(PHASE) ruff $(TOOLS)/ruff check --config local/ruff.toml local
	$(PHASE) "ruff format" $(TOOLS)/ruff format --check --config local/ruff.toml local
	$(PHASE) cfn-lint $(TOOLS)/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 $(PHASE) "sam validate" $(TOOLS)/sam validate --lint --template template.yaml --region us-east-1
	$(PHASE) asl-validator sh -c 'for f in statemachine/*.asl.json; do local/node_modules/.bin/asl-validator --json-path "$$f" || exit 1; done'
	$(PHASE) "static checks" local/.checks/bin/python local/static_checks.py

# The tests that need nothing but Rust: the core's unit and property tests (the SDK's mocks, the in-memory
# store), each crate's src/. They pass without the Python environment. The build also makes the emulator
# tests and the binaries, so that `make test` compiles once (the local stack's functions reuse it).
unit:
	$(PHASE) "rust build: tests and binaries" cargo build --workspace --locked --bins --tests
	$(PHASE) "rust tests: unit" cargo test --workspace --locked --lib

# Each function crate's tests/, against the local AWS emulator: needs `make setup`.
emulator-tests:
	$(PHASE) "rust tests: emulator" cargo test --workspace --locked --test '*'

# The end-to-end suite in two parts. First every file but two, spread by file over two pytest-xdist workers,
# each with a local stack of its own (conftest.py). Then, on one stack alone, the 1,000-target run (it loads
# both cores by itself) and the IAM usage check, which reads the decisions every stack made (saved in
# SNAPMGMT_IAM_DECISIONS_DIR when each worker's stack stops).
ALONE := local/tests/test_scale.py local/tests/test_zz_iam.py
e2e: export SNAPMGMT_IAM_DECISIONS_DIR := $(CURDIR)/local/.state/iam-decisions
e2e:
	rm -rf $(SNAPMGMT_IAM_DECISIONS_DIR)
	$(PHASE) "e2e: in parallel" $(PYTHON) -m pytest -q -n 2 --dist loadfile --durations=10 \
	  $(addprefix --ignore=,$(ALONE)) local/tests
	$(PHASE) "e2e: alone" $(PYTHON) -m pytest -q --durations=10 $(ALONE)

FUNCTIONS := -p trigger -p check-in-progress -p backup-fsx -p snapshot-ebs -p cleanup -p efs-backup -p report -p verify

# Not part of `test`: `sam build` from a clean clone (make package), the release builds of the functions and the
# command line, then the benchmarks on a fresh local stack; writes BENCHMARKS.md. Takes long (release builds with LTO).
bench: setup package
	cargo build --release --locked $(FUNCTIONS) -p snapmgmt-cli
	local/start.sh
	. local/.state/env && $(PYTHON) local/bench.py $(BENCH_ARGS); status=$$?; local/stop.sh; exit $$status

# The README's first deploy command, `sam build`, from a clean clone of HEAD; its time and artifacts go to
# local/.state/package.json (BENCHMARKS.md's packaging section).
package: setup
	local/package.sh

# statemachine/snapshot-mgmt.asl.json from its generator (local/asl_gen.py), docs/architecture.md's diagrams from it, and
# docs/configuration.md from template.yaml.
workflow: setup
	$(PYTHON) local/asl_gen.py
	$(PYTHON) local/diagram.py
	$(PYTHON) local/config_doc.py

start: setup
	local/start.sh

stop:
	local/stop.sh
