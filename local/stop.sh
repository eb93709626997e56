#!/usr/bin/env bash
# Stops the local stack that local/start.sh started, if it is running (the one of SNAPMGMT_STATE_DIR, as
# start.sh).
set -euo pipefail
state="${SNAPMGMT_STATE_DIR:-$(cd "$(dirname "$0")" && pwd)/.state}"
for pidfile in "$state"/*.pid; do
  [ -f "$pidfile" ] || continue
  kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
done
rm -f "$state/endpoint" "$state/env" "$state/fault-proxy.url"
