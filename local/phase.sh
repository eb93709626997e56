#!/usr/bin/env bash
# Times one phase of `make test`: `local/phase.sh NAME COMMAND...` runs COMMAND, prints how long it took and
# records "NAME<TAB>SECONDS" in local/.timings/phases.tsv. `local/phase.sh --reset` empties the record and
# `local/phase.sh --summary` prints it as a table, the total last.
set -euo pipefail
record="$(cd "$(dirname "$0")" && pwd)/.timings/phases.tsv"
mkdir -p "$(dirname "$record")"
case "${1:-}" in
  --reset) : >"$record"; date +%s >"$record.start"; exit 0 ;;
  --summary)
    echo "== time per phase (s)"
    awk -F'\t' '{ printf "%-34s %6d\n", $1, $2 }' "$record"
    if [ -f "$record.start" ]; then printf '%-34s %6d\n' "total (wall)" $(($(date +%s) - $(cat "$record.start"))); fi
    exit 0 ;;
esac
name="$1"; shift
start=$(date +%s.%N)
status=0
"$@" || status=$?
seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
printf '%s\t%s\n' "$name" "$seconds" >>"$record"
echo "== phase $name: ${seconds} s$([ "$status" = 0 ] || echo ", failed ($status)")" >&2
exit "$status"
