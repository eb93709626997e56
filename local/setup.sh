#!/usr/bin/env bash
# Installs what the local stack and the checks need, each pinned, each skipped when already current:
#   local/.venv        the AWS emulator (moto server), from requirements.txt
#   local/.tools       cargo-lambda, AWS SAM CLI, cfn-lint, ruff, from requirements-tools.txt
#   local/.checks      checkov and parliament (the template's static checks), from requirements-checks.txt
#   local/.cli         the AWS CLI, which the README's commands are tested through, from requirements-cli.txt
#   local/node_modules asl-validator, from package-lock.json
#   xfsprogs           mkfs.xfs, from Debian's packages, when the machine lacks it
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

# venv DIR REQUIREMENTS: a venv holding exactly these requirements.
venv() {
  local dir="$1" requirements="$2" stamp="$1/.requirements.sha256" want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "setup: installing $(basename "$requirements") into local/$(basename "$dir")" >&2
  python3 -m venv "$dir"
  "$here/phase.sh" "install $(basename "$requirements")" \
    "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
}

# The instances' sandboxes (moto_ext/sandbox.py) format their data volumes as xfs too.
if ! command -v mkfs.xfs >/dev/null; then
  echo "setup: installing xfsprogs (mkfs.xfs) from Debian's packages" >&2
  "$here/phase.sh" "install xfsprogs" bash -c \
    'apt-get install -y -q xfsprogs >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q xfsprogs >/dev/null; }'
fi

venv "$here/.venv" "$here/requirements.txt"
venv "$here/.tools" "$here/requirements-tools.txt"
venv "$here/.checks" "$here/requirements-checks.txt"
venv "$here/.cli" "$here/requirements-cli.txt"

stamp="$here/node_modules/.package-lock.sha256"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing asl-validator into local/node_modules" >&2
  (cd "$here" && ./phase.sh "install npm tools" npm ci --silent --no-audit --no-fund)
  echo "$want" >"$stamp"
fi
