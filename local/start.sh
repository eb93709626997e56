#!/usr/bin/env bash
# Starts the local AWS emulator in the background (a fresh one, empty) and writes its endpoint to
# local/.state/endpoint. Stop it with local/stop.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="$here/.state"
"$here/setup.sh"
"$here/stop.sh"
mkdir -p "$state"
rm -f "$state/endpoint"
nohup "$here/.venv/bin/python" "$here/emulator.py" --endpoint-file "$state/endpoint" \
  >"$state/emulator.log" 2>&1 &
echo $! >"$state/pid"
for _ in $(seq 100); do
  [ -s "$state/endpoint" ] && break
  sleep 0.1
done
[ -s "$state/endpoint" ] || { echo "start: the emulator did not start; see $state/emulator.log" >&2; exit 1; }
echo "emulator: $(cat "$state/endpoint")" >&2
