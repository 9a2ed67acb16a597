"""The Dask cluster for Kubernetes (infra/dask/cluster.yaml, a dask-kubernetes operator
``DaskCluster``): rendered as the README says, every pod and service field checked against
the Kubernetes API's own models (kubernetes_asyncio, installed with prefect-kubernetes), so
a misspelt field fails here rather than being dropped by the API server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "infra" / "dask" / "cluster.yaml"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/retrain:0.1.0"
SPOT_TAINTS = {"karpenter.sh/capacity-type", "eks.amazonaws.com/capacityType",
               "cloud.google.com/gke-spot"}  # fmt: skip


def rendered() -> dict[str, Any]:
    """The manifest after the README's substitution of ${RETRAIN_IMAGE}."""
    text = MANIFEST.read_text(encoding="utf-8").replace("${RETRAIN_IMAGE}", IMAGE)
    assert "${" not in text, "a placeholder the README does not substitute"
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def unknown_fields(value: Any, model: str, where: str = "") -> list[str]:
    """Every key of ``value`` that the Kubernetes model ``model`` has no field for."""
    from kubernetes_asyncio import client

    inner = re.fullmatch(r"list\[(.+)\]", model)
    if inner:
        items = enumerate(value)
        return [f for i, item in items for f in unknown_fields(item, inner[1], f"{where}[{i}]")]
    mapped = re.fullmatch(r"dict\(str, (.+)\)", model)
    if mapped:
        return [f for k, v in value.items() for f in unknown_fields(v, mapped[1], f"{where}.{k}")]
    cls = getattr(client, model, None)
    if cls is None:  # a primitive (str, int, bool, object)
        return []
    by_key = {key: attr for attr, key in cls.attribute_map.items()}
    found = []
    for key, item in value.items():
        if key not in by_key:
            found.append(f"{where}.{key} (not a field of {model})")
        else:
            found += unknown_fields(item, cls.openapi_types[by_key[key]], f"{where}.{key}")
    return found


def test_it_is_a_dask_cluster_whose_pods_and_service_are_valid_kubernetes() -> None:
    doc = rendered()
    assert (doc["apiVersion"], doc["kind"]) == ("kubernetes.dask.org/v1", "DaskCluster")
    spec = doc["spec"]
    assert unknown_fields(spec["worker"]["spec"], "V1PodSpec", "worker") == []
    assert unknown_fields(spec["scheduler"]["spec"], "V1PodSpec", "scheduler") == []
    assert unknown_fields(spec["scheduler"]["service"], "V1ServiceSpec", "service") == []


def test_the_checker_finds_a_misspelt_field() -> None:
    pod = rendered()["spec"]["worker"]["spec"]
    pod["containers"][0]["imagePullPolicyy"] = "Always"
    assert unknown_fields(pod, "V1PodSpec", "worker") == [
        "worker.containers[0].imagePullPolicyy (not a field of V1Container)"
    ]


def test_workers_run_on_spot_nodes_and_the_scheduler_on_demand() -> None:
    spec = rendered()["spec"]
    worker, scheduler = spec["worker"]["spec"], spec["scheduler"]["spec"]
    assert worker["nodeSelector"] == {"karpenter.sh/capacity-type": "spot"}
    assert {t["key"] for t in worker["tolerations"]} == SPOT_TAINTS
    assert scheduler["nodeSelector"] == {"karpenter.sh/capacity-type": "on-demand"}
    assert "tolerations" not in scheduler
    assert worker["terminationGracePeriodSeconds"] <= 120  # inside the spot notice


def test_each_worker_uses_the_cores_it_requests_and_stays_under_its_memory_limit() -> None:
    (container,) = rendered()["spec"]["worker"]["spec"]["containers"]
    args = container["args"]
    assert args[:2] == ["dask", "worker"]
    threads = args[args.index("--nthreads") + 1]
    resources = container["resources"]
    assert threads == resources["requests"]["cpu"] == resources["limits"]["cpu"]
    limit = args[args.index("--memory-limit") + 1]
    assert int(limit.removesuffix("GiB")) < int(resources["limits"]["memory"].removesuffix("Gi"))
    assert "env" not in container and "envFrom" not in container  # workers hold no secret
    # their store access is the service account's role: infra/iam/dask-worker-role.json
    assert rendered()["spec"]["worker"]["spec"]["serviceAccountName"] == "retrain-dask-worker"


def test_the_scheduler_address_in_the_readme_is_the_service_the_operator_makes() -> None:
    doc = rendered()
    name, namespace = doc["metadata"]["name"], doc["metadata"]["namespace"]
    service = doc["spec"]["scheduler"]["service"]
    assert service["selector"]["dask.org/cluster-name"] == name
    (port,) = service["ports"]
    address = f"tcp://{name}-scheduler.{namespace}.svc.cluster.local:{port['port']}"
    assert address in MANIFEST.read_text(encoding="utf-8")
    assert address in (ROOT / "README.md").read_text(encoding="utf-8")
    for part in ("worker", "scheduler"):
        (container,) = doc["spec"][part]["spec"]["containers"]
        assert container["image"] == IMAGE
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert "\ndistributed==" in lock and "\nlightgbm==" in lock  # the image's `dask` CLI
