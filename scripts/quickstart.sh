#!/usr/bin/env bash
# Install (if needed) and run the whole retraining loop on embedded defaults.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" runtime
cd "$root"
exec .venv/bin/retrain quickstart "$@"
