#!/usr/bin/env bash
# Install (if needed) and run the whole retraining loop on embedded defaults.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" runtime
cd "$root"
# The venv's bytecode is written on first import (bootstrap.sh compiles none at install):
# with PYTHONDONTWRITEBYTECODE set, every later command would recompile all it imports.
unset PYTHONDONTWRITEBYTECODE
exec .venv/bin/retrain quickstart "$@"
