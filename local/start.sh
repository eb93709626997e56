#!/usr/bin/env bash
# Starts the local stack in the background, fresh and empty: the AWS emulator (moto server with our
# extension; its Step Functions engine runs the state machines of statemachine/) and the Lambda
# functions (`cargo lambda watch`, which builds and serves the workspace's function binaries over the
# Lambda Invoke API; the engine's Lambda Tasks go there). Deploys the state machines, then prints the
# endpoints and writes local/.state/env, which the other scripts source. Stop it with local/stop.sh.
# SNAPMGMT_STATE_DIR (default local/.state) holds its logs, pids and env: stacks with their own state
# directories run side by side, each on its own ports (the end-to-end suite runs one per pytest worker).
#
# The stack's parameters, as `sam deploy --parameter-overrides` takes them: PARAMETERS="RetentionDays=7
# CopyRegion=us-west-2" (or, as JSON, SNAPMGMT_STACK_PARAMETERS). Each function gets exactly the environment
# the SAM-translated template gives it for them (local/function_env.py), and each role the policy it gives.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
state="${SNAPMGMT_STATE_DIR:-$here/.state}"
"$here/setup.sh"
"$here/stop.sh"
mkdir -p "$state"
if [ -z "${SNAPMGMT_STACK_PARAMETERS:-}" ]; then
  SNAPMGMT_STACK_PARAMETERS="$("$here/.venv/bin/python" "$here/function_env.py" --parameters "${PARAMETERS:-}")"
fi
export SNAPMGMT_STACK_PARAMETERS
"$here/.venv/bin/python" "$here/function_env.py" --write "$state/functions"

free_port() { "$here/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds="$1" what="$2"; shift 2
  for _ in $(seq $((seconds * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "start: $what did not come up; see $state/*.log" >&2
  exit 1
}

lambda_endpoint="http://127.0.0.1:$(free_port)"
nohup "$here/.venv/bin/python" "$here/emulator.py" --endpoint-file "$state/endpoint" \
  --lambda-endpoint "$lambda_endpoint" >"$state/emulator.log" 2>&1 &
echo $! >"$state/emulator.pid"
wait_for 10 "the emulator" test -s "$state/endpoint"
endpoint="$(cat "$state/endpoint")"

cat >"$state/env" <<ENV
export AWS_ENDPOINT_URL=$endpoint
export AWS_ENDPOINT_URL_LAMBDA=$lambda_endpoint
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_EC2_METADATA_DISABLED=true
export PATH="$here/.tools/bin:\$PATH"
export SNAPMGMT_STACK_PARAMETERS=$(printf %q "$SNAPMGMT_STACK_PARAMETERS")
ENV
# shellcheck source=/dev/null
. "$state/env"

cd "$root"
# Built now, so that no invocation waits for a compile: cargo lambda watch runs these binaries (through
# local/watch-cargo). Built with the tests, as `make unit` builds them, so the dependencies compile once.
"$here/phase.sh" "build the functions (start.sh)" cargo build --quiet --locked --workspace --bins --tests

# The functions reach the emulator through the fault proxy: it forwards everything until a test sets rules
# at $SNAPMGMT_FAULT_PROXY/__faults (throttling, 5xx, late answers, dropped connections).
nohup "$root/target/debug/fault-proxy" "$endpoint" >"$state/fault-proxy.url" 2>"$state/fault-proxy.log" &
echo $! >"$state/fault-proxy.pid"
wait_for 10 "the fault proxy" test -s "$state/fault-proxy.url"
proxy="$(head -n1 "$state/fault-proxy.url")"
echo "export SNAPMGMT_FAULT_PROXY=$proxy" >>"$state/env"
# Each function's settings come from its file of $state/functions (the watch's cargo loads it); the watch
# gives every function only what Lambda itself would: the endpoint, the Region, credentials, the log format
# (not this shell's Lambda endpoint, the watch itself: a function's Lambda calls go to the emulator).
SNAPMGMT_REAL_CARGO="$(command -v cargo)" SNAPMGMT_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" \
  SNAPMGMT_FUNCTION_ENV_DIR="$state/functions" PATH="$here/watch-cargo:$PATH" \
  nohup env -u AWS_ENDPOINT_URL_LAMBDA "$here/.tools/bin/cargo-lambda" lambda watch --quiet --ignore-changes \
  -A 127.0.0.1 -P "${lambda_endpoint##*:}" \
  --env-var "AWS_ENDPOINT_URL=$proxy,AWS_REGION=us-east-1,AWS_ACCESS_KEY_ID=local,AWS_SECRET_ACCESS_KEY=local" \
  --env-var "AWS_EC2_METADATA_DISABLED=true,AWS_LAMBDA_LOG_FORMAT=Text" \
  >"$state/functions.log" 2>&1 &
echo $! >"$state/functions.pid"
wait_for 30 "cargo lambda watch" "$here/.venv/bin/python" -c \
  "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "${lambda_endpoint##*:}"

"$here/.venv/bin/python" "$here/deploy.py" "$endpoint" >/dev/null
echo "local stack: AWS emulator $endpoint, Lambda functions $lambda_endpoint (source $state/env)" >&2
