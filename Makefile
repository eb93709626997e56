# The README's two commands: `make demo` runs the scheduled workflow locally, `make test` runs every test.
.PHONY: setup demo test lint unit e2e start stop bench

PYTHON := local/.venv/bin/python
TOOLS := local/.tools/bin

setup:
	local/setup.sh

# The whole workflow against a fresh local stack with seeded demo resources.
demo: setup
	local/demo.sh

# Everything CI runs: static checks, unit, property and emulator tests, the end-to-end workflow tests,
# then the demo itself.
test: setup lint unit e2e
	local/demo.sh

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	$(TOOLS)/ruff check --config local/ruff.toml local
	$(TOOLS)/ruff format --check --config local/ruff.toml local
	$(TOOLS)/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 $(TOOLS)/sam validate --lint --template template.yaml --region us-east-1
	for f in statemachine/*.asl.json; do local/node_modules/.bin/asl-validator --json-path "$$f" || exit 1; done
	local/.checks/bin/python local/static_checks.py

unit:
	cargo test --workspace --locked

e2e:
	$(PYTHON) -m pytest -q local/tests

FUNCTIONS := -p trigger -p check-in-progress -p backup-fsx -p snapshot-ebs -p cleanup -p efs-backup -p report

# Not part of `test`: release builds (host, and arm64 zips as `sam build` makes them), then the benchmarks
# on a fresh local stack; writes BENCHMARKS.md. Takes long the first time (release builds with LTO).
bench: setup
	cargo build --release --locked $(FUNCTIONS)
	PATH="$(CURDIR)/$(TOOLS):$$PATH" $(TOOLS)/cargo-lambda lambda build --release --arm64 --output-format zip $(FUNCTIONS)
	local/start.sh
	. local/.state/env && $(PYTHON) local/bench.py $(BENCH_ARGS); status=$$?; local/stop.sh; exit $$status

start: setup
	local/start.sh

stop:
	local/stop.sh
