# The two commands of the README: `make demo` runs the job locally, `make test` runs every test.
.PHONY: setup demo test lint unit start stop

setup:
	local/setup.sh

# The FSx backup job, end to end, against a fresh local emulator with seeded demo file systems.
demo:
	local/demo.sh

# Everything CI runs: formatting, lints, unit, property and emulator tests, then the demo itself.
test: setup lint unit
	SNAPMGMT_BIN=target/debug/snapmgmt local/demo.sh

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

unit:
	cargo test --workspace --locked

start:
	local/start.sh

stop:
	local/stop.sh
