#!/usr/bin/env bash
# Regenerate the hashed lock files from pyproject.toml with pip-tools (pinned, in a throwaway venv).
#   requirements.lock      runtime + worker integrations: what the container image installs
#   requirements-dev.lock  the same plus the test and lint tools: what scripts/test.sh installs
# Every line carries the sha256 of every published file of that release, so
# `pip install --require-hashes` refuses anything else. Pins stay where the current locks put
# them unless you pass --upgrade (or --upgrade-package NAME, forwarded to pip-compile).
# Usage: scripts/lock.sh [--upgrade | --upgrade-package NAME ...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check pip-tools==7.6.2
constraints=()
if [ "${1:-}" != "--upgrade" ]; then
  # The current pins as constraints: a new dependency is resolved, nothing else moves.
  grep -hE '^[A-Za-z0-9_.-]+==' requirements.lock requirements-dev.lock 2>/dev/null \
    | sed 's/ .*//' | sort -u > "$work/constraints.txt"
  constraints=(-c "$work/constraints.txt")
fi
compile() {
  CUSTOM_COMPILE_COMMAND="scripts/lock.sh" "$work/venv/bin/pip-compile" --quiet \
    --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
    "${constraints[@]}" "$@" pyproject.toml
}
# The temporary constraints file is not a reason anyone needs to read (nor a path to commit).
strip_constraints() {
  sed -i -E '/^ +# via -c .*constraints\.txt$/d; /^ +#   -c .*constraints\.txt$/d' "$1"
}
echo "locking runtime + workers -> requirements.lock (several minutes) ..." >&2
compile --extra workers -o requirements.lock "$@"
strip_constraints requirements.lock
echo "locking runtime + workers + dev -> requirements-dev.lock ..." >&2
compile --extra workers --extra dev -o requirements-dev.lock "$@"
strip_constraints requirements-dev.lock
