#!/usr/bin/env bash
# The main job, locally: starts a fresh local stack (AWS emulator + Lambda functions), seeds demo
# resources, runs the scheduled workflow twice, first as a dry run, then for real, printing what each
# run did, and stops the stack. PARAMETERS (the template's, as `sam deploy --parameter-overrides` takes them;
# default none: the template's defaults, RetentionDays=14 and MinKeep=1) apply.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export PARAMETERS="${PARAMETERS:-}"
"$here/start.sh"
trap '"$here/stop.sh"' EXIT
# shellcheck source=/dev/null
. "$here/.state/env"
python="$here/.venv/bin/python"

echo "== seeded (file system: backups)"
"$python" "$here/seed.py"
echo
echo "== dry run, parameters: ${PARAMETERS:-the template defaults}"
"$python" "$here/workflow.py" --dry-run --poll-seconds 1
echo
echo "== the scheduled run"
"$python" "$here/workflow.py" --poll-seconds 1
echo
echo "== the EFS backup SOP, on demand, for the tagged EFS file system"
"$python" "$here/sop.py" --poll-seconds 1
echo
echo "== the operator's view: the snapmgmt command line (read-only, as the stack's OperatorReadOnlyPolicy)"
snapmgmt="${CARGO_TARGET_DIR:-$(dirname "$here")/target}/debug/snapmgmt"
operator_key="$(cd "$here" && "$python" -c 'import iam_template; print(iam_template.operator_key())')"
AWS_ACCESS_KEY_ID="$operator_key" "$snapmgmt" runs
# Exit 1 says a target needs attention: worth reading, not a failed demo.
AWS_ACCESS_KEY_ID="$operator_key" "$snapmgmt" status || [ $? -eq 1 ]
