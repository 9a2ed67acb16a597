#!/usr/bin/env bash
# Install (if needed) and run lint, type checks and the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
cd "$root"
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1 GX_ANALYTICS_ENABLED=false
.venv/bin/python -m ruff check flows tasks schemas tests benchmarks
.venv/bin/python -m ruff format --check flows tasks schemas tests benchmarks
.venv/bin/python -m mypy
# Two workers, one test file per worker at a time: the end-to-end files mostly wait on servers.
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
