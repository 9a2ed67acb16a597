#!/usr/bin/env bash
# Install (if needed) and run lint, type checks, the import contracts and the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" dev
cd "$root"
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1 GX_ANALYTICS_ENABLED=false
.venv/bin/python -m ruff check flows tasks schemas tests benchmarks
.venv/bin/python -m ruff format --check flows tasks schemas tests benchmarks
.venv/bin/python -m mypy
.venv/bin/lint-imports --no-logo
# Two workers, one test file per worker at a time: the end-to-end files mostly wait on servers.
# Coverage of flows/, tasks/ and schemas/ is reported; below the floor the run fails.
exec .venv/bin/python -m pytest -n 2 --dist loadfile --cov --cov-report=term --cov-fail-under=91 "$@"
