#!/usr/bin/env bash
# Create (or update) the retrain work pools on the Prefect API named by PREFECT_API_URL.
#
# Usage, from anywhere:
#   infra/work-pools/create.sh            # all four pools
#   infra/work-pools/create.sh k8s        # Kubernetes pools only
#   infra/work-pools/create.sh ecs        # ECS pools only
#
# Pools (see infra/README.md):
#   retrain-spot-k8s        kubernetes  retraining on spot nodes (EKS, Karpenter, GKE)
#   retrain-on-demand-k8s   kubernetes  ingestion and monitoring on on-demand nodes
#   retrain-spot-ecs        ecs         retraining on FARGATE_SPOT
#   retrain-on-demand-ecs   ecs         ingestion and monitoring on FARGATE
#
# Re-running is safe: --overwrite replaces each pool's base job template with the file's.
# Needs `prefect` with prefect-kubernetes / prefect-aws installed (both are in requirements.lock).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
prefect="${PREFECT:-}"
if [ -z "$prefect" ]; then
  if [ -x "$root/.venv/bin/prefect" ]; then prefect="$root/.venv/bin/prefect"; else prefect=prefect; fi
fi
if [ -z "${PREFECT_API_URL:-}" ]; then
  echo "note: PREFECT_API_URL is not set; using the active Prefect profile's API" >&2
fi
which="${1:-all}"

create() {  # name type template
  "$prefect" --no-prompt work-pool create "$1" --type "$2" \
    --base-job-template "$here/$3" --overwrite
}

case "$which" in
  all|k8s)
    create retrain-spot-k8s kubernetes kubernetes-spot.json
    create retrain-on-demand-k8s kubernetes kubernetes-on-demand.json
    ;;
esac
case "$which" in
  all|ecs)
    create retrain-spot-ecs ecs ecs-spot.json
    create retrain-on-demand-ecs ecs ecs-on-demand.json
    ;;
esac
case "$which" in
  all|k8s|ecs) ;;
  *) echo "usage: $0 [all|k8s|ecs]" >&2; exit 2 ;;
esac
