#!/usr/bin/env bash
# Stops the emulator that local/start.sh started, if it is running.
set -euo pipefail
state="$(cd "$(dirname "$0")" && pwd)/.state"
if [ -f "$state/pid" ]; then
  kill "$(cat "$state/pid")" 2>/dev/null || true
  rm -f "$state/pid" "$state/endpoint"
fi
