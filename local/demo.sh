#!/usr/bin/env bash
# The main job, locally: starts a fresh emulator, seeds demo file systems and backups, then runs the
# FSx backup job twice, first as a dry run, then for real, and prints what each did.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# SNAPMGMT_BIN: a snapmgmt binary already built (the test command reuses the one its tests built).
snapmgmt="${SNAPMGMT_BIN:-}"
if [ -z "$snapmgmt" ]; then
  cargo build --quiet -p snapmgmt-cli
  snapmgmt=target/debug/snapmgmt
fi
local/start.sh
trap local/stop.sh EXIT

endpoint="$(cat local/.state/endpoint)"
export AWS_ENDPOINT_URL="$endpoint" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export AWS_EC2_METADATA_DISABLED=true
export RETENTION_DAYS="${RETENTION_DAYS:-14}" MIN_KEEP="${MIN_KEEP:-1}"

echo "== seeded (file system: backups)"
local/.venv/bin/python local/seed.py "$endpoint"
echo
echo "== dry run, RETENTION_DAYS=$RETENTION_DAYS MIN_KEEP=$MIN_KEEP"
"$snapmgmt" run --dry-run --poll-seconds 1
echo
echo "== real run"
"$snapmgmt" run --poll-seconds 1
