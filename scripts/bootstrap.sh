#!/usr/bin/env bash
# Create .venv at the repository root (if missing) and install the locked dependencies.
# Usage: scripts/bootstrap.sh   (idempotent: reinstalls only when the lock file changes)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "error: Python 3.11+ is required ($python is $("$python" --version 2>&1))" >&2; exit 1; }
stamp=".venv/.installed-$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv ..." >&2
  "$python" -m venv .venv
fi
if [ ! -f "$stamp" ]; then
  echo "installing locked dependencies into .venv (first run takes 1-3 minutes) ..." >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  rm -f .venv/.installed-*
  touch "$stamp"
fi
