#!/usr/bin/env bash
# `make package`: the README's first deploy command, `sam build`, run as a new user runs it: in a clean clone of
# this repository's HEAD (committed work only), with a target directory of its own. Records its time and each
# function's artifact (the arm64 `bootstrap` and its zip, as `sam deploy` uploads it) in local/.state/package.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/snapmgmt"
cd "$work/snapmgmt"
export PATH="$root/local/.tools/bin:$PATH" SAM_CLI_TELEMETRY=0
start=$(date +%s.%N)
sam build
end=$(date +%s.%N)
mkdir -p "$root/local/.state"
"$root/local/.tools/bin/python" - "$start" "$end" "$(git rev-parse --short HEAD)" "$root/local/.state/package.json" <<'PY'
import json, pathlib, sys, zipfile

start, end, commit, out = sys.argv[1:]
artifacts = {}
for bootstrap in sorted(pathlib.Path(".aws-sam/build").glob("*/bootstrap")):
    archive = bootstrap.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(bootstrap, "bootstrap")
    artifacts[bootstrap.parent.name] = {"bootstrap": bootstrap.stat().st_size, "zip": archive.stat().st_size}
functions = [line for line in pathlib.Path("template.yaml").read_text().splitlines() if "AWS::Serverless::Function" in line]
if len(artifacts) != len(functions):
    raise SystemExit(f"sam build made {len(artifacts)} functions' artifacts, not {len(functions)}: {sorted(artifacts)}")
record = {"seconds": float(end) - float(start), "commit": commit, "artifacts": artifacts}
pathlib.Path(out).write_text(json.dumps(record, indent=2))
print(json.dumps(record, indent=2))
PY
