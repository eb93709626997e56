#!/usr/bin/env bash
# The main job, locally: starts a fresh local stack (AWS emulator + Lambda functions), seeds demo
# resources, runs the scheduled workflow twice, first as a dry run, then for real, printing what each
# run did, and stops the stack. RETENTION_DAYS (default 14) and MIN_KEEP (default 1) apply.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export RETENTION_DAYS="${RETENTION_DAYS:-14}" MIN_KEEP="${MIN_KEEP:-1}"
"$here/start.sh"
trap '"$here/stop.sh"' EXIT
# shellcheck source=/dev/null
. "$here/.state/env"
python="$here/.venv/bin/python"

echo "== seeded (file system: backups)"
"$python" "$here/seed.py"
echo
echo "== dry run, RETENTION_DAYS=$RETENTION_DAYS MIN_KEEP=$MIN_KEEP (the first run builds the functions)"
"$python" "$here/workflow.py" --dry-run --poll-seconds 1
echo
echo "== the scheduled run"
"$python" "$here/workflow.py" --poll-seconds 1
echo
echo "== the EFS backup SOP, on demand, for the tagged EFS file system"
"$python" "$here/sop.py" --poll-seconds 1
