#!/usr/bin/env bash
# Create .venv at the repository root (if missing) and install the locked dependencies.
# Usage: scripts/bootstrap.sh [runtime|dev]
#   runtime  requirements.lock: what `retrain` needs (scripts/quickstart.sh)
#   dev      requirements-dev.lock: runtime plus the test and lint tools (default; scripts/test.sh)
# Both lock files carry sha256 hashes and are installed with --require-hashes: a file whose hash
# is not in the lock is refused. The installer is uv (requirements-installer.lock, hashed too),
# which takes seconds where pip takes minutes; where no uv wheel fits the machine, or uv cannot
# reach the index (UV_DEFAULT_INDEX names a mirror), pip installs the same lock instead.
# Idempotent: reinstalls only when a lock file changes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mode="${1:-dev}"
case "$mode" in
  runtime) lock=requirements.lock ;;
  dev) lock=requirements-dev.lock ;;
  *) echo "error: unknown mode '$mode' (expected runtime or dev)" >&2; exit 2 ;;
esac
python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "error: Python 3.11+ is required ($python is $("$python" --version 2>&1))" >&2; exit 1; }
key="$(sha256sum requirements*.lock pyproject.toml | sha256sum | cut -c1-16)"
# The dev set includes the runtime set: an up-to-date dev install satisfies both modes.
if [ -f ".venv/.installed-$mode-$key" ] || [ -f ".venv/.installed-dev-$key" ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv ..." >&2
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
uv=(.venv/bin/uv pip install --quiet --python .venv/bin/python)
# dev: all bytecode compiled at install (as pip does), since the tests start many Python
# processes and, with PYTHONDONTWRITEBYTECODE set, each would recompile what it imports.
# runtime: none (half a minute saved); the first `retrain` run writes the bytecode of what
# it imports (scripts/quickstart.sh lets it).
compile=()
[ "$mode" = dev ] && compile=(--compile-bytecode)
if "${pip[@]}" --require-hashes --only-binary=:all: -r requirements-installer.lock 2>/dev/null \
  && echo "installing $lock into .venv with uv ..." >&2 \
  && "${uv[@]}" --require-hashes "${compile[@]}" -r "$lock"; then
  # The project itself (editable, no dependencies: they all came from the lock above).
  "${uv[@]}" --no-deps -e .
else
  echo "installing $lock into .venv with pip instead (no uv for this machine, or uv failed: 2-4 minutes) ..." >&2
  "${pip[@]}" --require-hashes -r "$lock"
  "${pip[@]}" --no-deps -e .
fi
rm -f .venv/.installed-*
touch ".venv/.installed-$mode-$key"
