"""Work-pool base job templates (infra/work-pools/): what a worker would really submit.

Prefect silently ignores job variables a template does not declare, so every check here
looks at the rendered Kubernetes Job or ECS RunTask request, produced by the integrations'
own code (``from_template_and_values`` + ``prepare_for_flow_run``, and for ECS the worker's
task-definition and run-request preparation), never at the input variables.

The e2e test creates the pools on a real ``prefect server`` with ``create.sh``, deploys with
the job variables of ``job-variables.yaml`` and renders each flow run the way a worker does
(``resolve_for_flow_run`` against the server).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers.services import prefect_server as running_prefect_server

ROOT = Path(__file__).resolve().parents[2]
POOLS = ROOT / "infra" / "work-pools"
BIN = ROOT / ".venv" / "bin"
TEMPLATES = {
    "retrain-spot-k8s": ("kubernetes", "kubernetes-spot.json"),
    "retrain-on-demand-k8s": ("kubernetes", "kubernetes-on-demand.json"),
    "retrain-spot-ecs": ("ecs", "ecs-spot.json"),
    "retrain-on-demand-ecs": ("ecs", "ecs-on-demand.json"),
}
SPOT_POOLS = {"retrain-spot-k8s", "retrain-spot-ecs"}
SAMPLE_ENV = {  # what `prefect deploy` would substitute for {{ $NAME }}
    "RETRAIN_IMAGE": "123456789012.dkr.ecr.us-east-1.amazonaws.com/retrain:0.1.0",
    "RETRAIN_INGESTION_TASK_ROLE_ARN": "arn:aws:iam::123456789012:role/retrain-ingestion",
    "RETRAIN_TRAINING_TASK_ROLE_ARN": "arn:aws:iam::123456789012:role/retrain-training",
    "RETRAIN_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/retrain-ecs-execution",
}
EKS_SPOT = {"key": "eks.amazonaws.com/capacityType", "value": "SPOT"}
KARPENTER_SPOT = {"key": "karpenter.sh/capacity-type", "value": "spot"}
GKE_SPOT = {"key": "cloud.google.com/gke-spot", "value": "true"}
SENTINEL = "undeclared-variable-sentinel"
TASK_DEFINITION_ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/retrain:1"


# ---------------------------------------------------------------- helpers


def template(pool: str) -> dict[str, Any]:
    return json.loads((POOLS / TEMPLATES[pool][1]).read_text(encoding="utf-8"))


def job_variables() -> dict[str, dict[str, Any]]:
    """infra/work-pools/job-variables.yaml with {{ $NAME }} resolved from SAMPLE_ENV."""
    data = yaml.safe_load((POOLS / "job-variables.yaml").read_text(encoding="utf-8"))
    resolved: dict[str, dict[str, Any]] = substitute(data)
    return resolved


def substitute(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: substitute(v) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v) for v in value]
    if isinstance(value, str):
        return re.sub(
            r"\{\{\s*\$(\w+)\s*\}\}", lambda m: SAMPLE_ENV.get(m.group(1), "sample"), value
        )
    return value


ENTRIES = [(platform, role) for platform, roles in job_variables().items() for role in roles]


class NoApi:
    """Stands in for the Prefect client: the templates must render without any API call."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"rendering needed the Prefect API ({name})")


def flow_run(name: str = "retrain-fraud-run") -> Any:
    from prefect.client.schemas.objects import FlowRun

    return FlowRun(flow_id=uuid.uuid4(), deployment_id=uuid.uuid4(), name=name)


def render_k8s(pool: str, values: dict[str, Any]) -> dict[str, Any]:
    """The Job manifest a Kubernetes worker would create for these job variables."""
    from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

    config = asyncio.run(
        KubernetesWorkerJobConfiguration.from_template_and_values(
            template(pool), copy.deepcopy(values), client=NoApi()
        )
    )
    config.prepare_for_flow_run(flow_run())
    return config.job_manifest


def pod_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return spec


def container(manifest: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod_spec(manifest)["containers"]
    return dict(only)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's AWS (the worker reads the default VPC's subnets for awsvpc tasks)."""
    from moto import mock_aws

    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


def prepare_ecs(pool: str, config: Any, run: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The worker's own task definition and RunTask request for a job configuration."""
    from prefect_aws.workers.ecs_worker import ECSWorker

    worker = ECSWorker(work_pool_name=pool)
    task_definition = worker._prepare_task_definition(config, region="us-east-1", flow_run=run)
    worker._validate_task_definition(task_definition, config)
    request = worker._prepare_task_run_request(config, task_definition, TASK_DEFINITION_ARN)
    return task_definition, request


def render_ecs(pool: str, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    from prefect_aws.workers.ecs_worker import ECSJobConfiguration

    config = asyncio.run(
        ECSJobConfiguration.from_template_and_values(
            template(pool), copy.deepcopy(values), client=NoApi()
        )
    )
    run = flow_run()
    config.prepare_for_flow_run(run)
    return prepare_ecs(pool, config, run)


def assert_valid_ecs_api_input(task_definition: dict[str, Any], request: dict[str, Any]) -> None:
    """Both documents are valid input of the ECS API (botocore's own parameter validation)."""
    import boto3
    from botocore.validate import ParamValidator

    model = boto3.session.Session().client("ecs", region_name="us-east-1").meta.service_model
    for operation, params in (
        ("RegisterTaskDefinition", task_definition),
        ("RunTask", request),
    ):
        report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
        assert not report.has_errors(), f"{operation}: {report.generate_report()}"


# prefect-kubernetes' manifest validator requires these two Job fields inside the *pod* spec
# (its default template puts them there); the API server ignores them. Not ours to fix.
UPSTREAM_MISPLACED = {"/spec/template/spec/parallelism", "/spec/template/spec/completions"}


def assert_valid_k8s_job(manifest: dict[str, Any]) -> None:
    """Every key is a real Kubernetes field: a V1Job round trip drops nothing of ours."""
    from kubernetes_asyncio import client

    async def roundtrip() -> Any:
        async with client.ApiClient() as api:
            job = api._ApiClient__deserialize(manifest, "V1Job")
            return api.sanitize_for_serialization(job)

    ours = dict(leaves(json.loads(json.dumps(manifest))))
    kept = dict(leaves(asyncio.run(roundtrip())))
    assert {p for p in ours if p not in kept} == UPSTREAM_MISPLACED
    assert kept == {p: v for p, v in ours.items() if p not in UPSTREAM_MISPLACED}


def quantity(value: str) -> float:
    """A Kubernetes memory quantity in bytes (the suffixes used here)."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    for suffix, factor in units.items():
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value)


def leaves(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from leaves(value, f"{path}/{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from leaves(value, f"{path}/{i}")
    else:
        yield path, obj


# ---------------------------------------------------------------- the templates themselves


def default_template(kind: str) -> dict[str, Any]:
    if kind == "kubernetes":
        from prefect_kubernetes.worker import KubernetesWorker

        return dict(KubernetesWorker.get_default_base_job_template())
    from prefect_aws.workers.ecs_worker import ECSWorker

    return dict(ECSWorker.get_default_base_job_template())


# Variables a template drops on purpose: the spot ECS request must never carry launchType,
# the on-demand one never a capacity provider strategy.
DROPPED = {
    "retrain-spot-ecs": {"launch_type"},
    "retrain-on-demand-ecs": {"capacity_provider_strategy"},
}


@pytest.mark.parametrize("pool", sorted(TEMPLATES))
def test_template_keeps_everything_the_installed_integration_defaults_to(pool: str) -> None:
    """Derived from the pinned integration's default: nothing lost except deliberate drops."""
    kind = TEMPLATES[pool][0]
    ours, default = template(pool), default_template(kind)
    missing_vars = set(default["variables"]["properties"]) - set(ours["variables"]["properties"])
    assert missing_vars == DROPPED.get(pool, set())
    assert set(default["job_configuration"]) <= set(ours["job_configuration"])
    if kind == "kubernetes":
        ours_paths = {p for p, _ in leaves(ours["job_configuration"]["job_manifest"])}
        default_paths = {p for p, _ in leaves(default["job_configuration"]["job_manifest"])}
        assert default_paths <= ours_paths


@pytest.mark.parametrize("pool", sorted(TEMPLATES))
def test_every_variable_is_wired_and_every_placeholder_declared(pool: str) -> None:
    """A declared variable that no placeholder uses would be a knob that does nothing."""
    from prefect.utilities.templating import find_placeholders

    tpl = template(pool)
    used = {p.name for p in find_placeholders(tpl["job_configuration"])}
    assert used == set(tpl["variables"]["properties"])


@pytest.mark.parametrize("pool", sorted(TEMPLATES))
def test_variable_defaults_are_valid_against_their_own_schema(pool: str) -> None:
    from prefect.utilities.schema_tools.validation import validate

    schema = template(pool)["variables"]
    defaults = {
        name: prop["default"]
        for name, prop in schema["properties"].items()
        if prop.get("default") is not None
    }
    validate(defaults, schema, raise_on_error=True, preprocess=True, ignore_required=True)


def test_spot_and_on_demand_templates_differ_only_in_defaults() -> None:
    """Same job shape in both Kubernetes pools: moving a deployment is a pool-name change."""
    spot, on_demand = template("retrain-spot-k8s"), template("retrain-on-demand-k8s")
    assert spot["job_configuration"] == on_demand["job_configuration"]
    assert set(spot["variables"]["properties"]) == set(on_demand["variables"]["properties"])


def test_kubernetes_variable_descriptions_name_each_platforms_spot_label() -> None:
    props = template("retrain-spot-k8s")["variables"]["properties"]
    selector, tolerations = (
        props["node_selector"]["description"],
        props["tolerations"]["description"],
    )
    for label in (
        "eks.amazonaws.com/capacityType: SPOT",
        "karpenter.sh/capacity-type: spot",
        'cloud.google.com/gke-spot: "true"',
    ):
        assert label in selector
    for taint in (
        "eks.amazonaws.com/capacityType=SPOT",
        "karpenter.sh/capacity-type=spot",
        "cloud.google.com/gke-spot=true",
    ):
        assert taint in tolerations


# ---------------------------------------------------------------- Kubernetes rendering


def test_spot_job_with_no_variables_targets_spot_nodes_by_default() -> None:
    manifest = render_k8s("retrain-spot-k8s", {"image": SAMPLE_ENV["RETRAIN_IMAGE"]})
    spec = pod_spec(manifest)
    assert spec["nodeSelector"] == {"karpenter.sh/capacity-type": "spot"}
    tolerated = {(t["key"], t["value"], t["effect"]) for t in spec["tolerations"]}
    for label in (EKS_SPOT, KARPENTER_SPOT, GKE_SPOT):
        assert (label["key"], label["value"], "NoSchedule") in tolerated
    assert spec["terminationGracePeriodSeconds"] == 110
    assert container(manifest)["resources"] == {
        "requests": {"cpu": "2", "memory": "4Gi"},
        "limits": {"memory": "4Gi"},
    }
    assert_valid_k8s_job(manifest)


@pytest.mark.parametrize("role", ["fraud", "recs"])
def test_retraining_job_carries_spot_placement_and_model_resources(role: str) -> None:
    entry = job_variables()["kubernetes"][role]
    assert entry["work_pool"] == "retrain-spot-k8s"
    values = entry["job_variables"]
    manifest = render_k8s(entry["work_pool"], values)
    spec, main = pod_spec(manifest), container(manifest)

    assert spec["nodeSelector"] == values["node_selector"]
    assert {"key": "karpenter.sh/capacity-type", "operator": "Equal", "value": "spot",
            "effect": "NoSchedule"} in spec["tolerations"]  # fmt: skip
    grace = spec["terminationGracePeriodSeconds"]
    assert grace == 110
    assert grace < 120  # inside the 2-minute spot notice
    assert spec["serviceAccountName"] == "retrain-training"
    assert main["resources"]["requests"] == {
        "cpu": values["cpu_request"],
        "memory": values["memory_request"],
    }
    assert main["resources"]["limits"] == {"memory": values["memory_limit"]}
    assert quantity(values["memory_request"]) <= quantity(values["memory_limit"])
    assert main["image"] == SAMPLE_ENV["RETRAIN_IMAGE"]
    # The image's ENTRYPOINT is `retrain`: the worker's command must run as itself.
    assert main["command"] == ["/usr/bin/env"]
    assert main["args"] == ["prefect", "flow-run", "execute"]
    assert main["securityContext"]["runAsNonRoot"] is True
    env = {e["name"]: e.get("value") for e in main["env"]}
    assert env["RETRAIN_CAPACITY_TYPE"] == "spot"
    # backoffLimit 0: prefect-kubernetes asks the runner to reschedule the run on SIGTERM.
    assert manifest["spec"]["backoffLimit"] == 0
    assert env["PREFECT_FLOW_RUN_EXECUTE_SIGTERM_BEHAVIOR"] == "reschedule"
    assert_valid_k8s_job(manifest)


def test_recs_gets_more_memory_than_fraud() -> None:
    k8s = job_variables()["kubernetes"]
    fraud = container(render_k8s("retrain-spot-k8s", k8s["fraud"]["job_variables"]))
    recs = container(render_k8s("retrain-spot-k8s", k8s["recs"]["job_variables"]))
    assert quantity(recs["resources"]["requests"]["memory"]) > quantity(
        fraud["resources"]["requests"]["memory"]
    )


@pytest.mark.parametrize(
    "selector",
    [
        {"eks.amazonaws.com/capacityType": "SPOT"},
        {"karpenter.sh/capacity-type": "spot"},
        {"cloud.google.com/gke-spot": "true"},
    ],
    ids=["eks-managed-node-groups", "karpenter", "gke"],
)
def test_each_platforms_selector_replaces_the_default(selector: dict[str, str]) -> None:
    manifest = render_k8s("retrain-spot-k8s", {"node_selector": selector})
    assert pod_spec(manifest)["nodeSelector"] == selector
    assert_valid_k8s_job(manifest)


@pytest.mark.parametrize("pool", ["retrain-spot-k8s", "retrain-on-demand-k8s"])
def test_undeclared_kubernetes_variables_do_not_reach_the_job(pool: str) -> None:
    """Misspelled or unknown variables are dropped by Prefect without a word: prove it."""
    values = {
        "nodeSelector": {"sentinel": SENTINEL},  # the manifest's spelling, not the variable's
        "node_selectors": {"sentinel": SENTINEL},
        "gpu_limit": SENTINEL,
        "priority_class_name": SENTINEL,
    }
    manifest = render_k8s(pool, values)
    assert SENTINEL not in json.dumps(manifest)
    assert "sentinel" not in pod_spec(manifest).get("nodeSelector", {})


@pytest.mark.parametrize("role", ["ingestion", "monitoring"])
def test_ingestion_and_monitoring_jobs_stay_off_spot_nodes(role: str) -> None:
    entry = job_variables()["kubernetes"][role]
    assert entry["work_pool"] == "retrain-on-demand-k8s"
    manifest = render_k8s(entry["work_pool"], entry["job_variables"])
    spec, main = pod_spec(manifest), container(manifest)
    assert spec["nodeSelector"] == {}
    assert spec["tolerations"] == []
    assert main["resources"]["requests"]["memory"] == entry["job_variables"]["memory_request"]
    env = {e["name"]: e.get("value") for e in main["env"]}
    assert env["RETRAIN_CAPACITY_TYPE"] == "on-demand"
    assert_valid_k8s_job(manifest)


# ---------------------------------------------------------------- ECS rendering


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("role", ["fraud", "recs"])
def test_retraining_task_runs_on_fargate_spot_without_a_launch_type(role: str) -> None:
    entry = job_variables()["ecs"][role]
    assert entry["work_pool"] == "retrain-spot-ecs"
    values = entry["job_variables"]
    task_definition, request = render_ecs(entry["work_pool"], values)

    assert request["capacityProviderStrategy"] == values["capacity_provider_strategy"]
    assert {s["capacityProvider"] for s in request["capacityProviderStrategy"]} == {"FARGATE_SPOT"}
    assert "launchType" not in request
    assert request["overrides"]["cpu"] == str(values["cpu"])
    assert request["overrides"]["memory"] == str(values["memory"])
    assert request["overrides"]["taskRoleArn"] == SAMPLE_ENV["RETRAIN_TRAINING_TASK_ROLE_ARN"]
    (main,) = request["overrides"]["containerOverrides"]
    assert main["command"] == ["prefect", "flow-run", "execute"]
    env = {e["name"]: e["value"] for e in main["environment"]}
    assert env["RETRAIN_CAPACITY_TYPE"] == "spot"

    (definition,) = task_definition["containerDefinitions"]
    stop_timeout = definition["stopTimeout"]
    assert stop_timeout == 110
    assert stop_timeout <= 120  # Fargate's maximum, and inside the 2-minute notice
    assert definition["entryPoint"] == ["/usr/bin/env"]
    assert definition["image"] == SAMPLE_ENV["RETRAIN_IMAGE"]
    assert task_definition["requiresCompatibilities"] == ["FARGATE"]
    assert (task_definition["cpu"], task_definition["memory"]) == (
        str(values["cpu"]),
        str(values["memory"]),
    )
    assert_valid_ecs_api_input(task_definition, request)


@pytest.mark.usefixtures("aws")
def test_spot_task_defaults_to_fargate_spot_and_ignores_a_launch_type() -> None:
    """`launch_type` is not a variable of the spot pool: passing it cannot add launchType."""
    _, request = render_ecs(
        "retrain-spot-ecs", {"image": SAMPLE_ENV["RETRAIN_IMAGE"], "launch_type": "FARGATE"}
    )
    assert request["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}
    ]
    assert "launchType" not in request


@pytest.mark.usefixtures("aws")
def test_a_mixed_strategy_passes_through_unchanged() -> None:
    strategy = [
        {"capacityProvider": "FARGATE_SPOT", "weight": 4, "base": 0},
        {"capacityProvider": "FARGATE", "weight": 1, "base": 0},
    ]
    task_definition, request = render_ecs(
        "retrain-spot-ecs", {"capacity_provider_strategy": strategy}
    )
    assert request["capacityProviderStrategy"] == strategy
    assert "launchType" not in request
    assert_valid_ecs_api_input(task_definition, request)


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("pool", ["retrain-spot-ecs", "retrain-on-demand-ecs"])
def test_undeclared_ecs_variables_do_not_reach_the_request(pool: str) -> None:
    values = {
        "capacityProviderStrategy": [{"capacityProvider": SENTINEL, "weight": 1, "base": 0}],
        "stop_timeout": SENTINEL,
        "ephemeral_storage_gib": SENTINEL,
    }
    task_definition, request = render_ecs(pool, values)
    assert SENTINEL not in json.dumps([task_definition, request])


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("role", ["ingestion", "monitoring"])
def test_ingestion_and_monitoring_tasks_run_on_fargate_on_demand(role: str) -> None:
    entry = job_variables()["ecs"][role]
    assert entry["work_pool"] == "retrain-on-demand-ecs"
    task_definition, request = render_ecs(entry["work_pool"], entry["job_variables"])
    assert request["launchType"] == "FARGATE"
    assert "capacityProviderStrategy" not in request
    (main,) = request["overrides"]["containerOverrides"]
    env = {e["name"]: e["value"] for e in main["environment"]}
    assert env["RETRAIN_CAPACITY_TYPE"] == "on-demand"
    assert_valid_ecs_api_input(task_definition, request)


# ---------------------------------------------------------------- job-variables.yaml


@pytest.mark.parametrize(("platform", "role"), ENTRIES)
def test_job_variables_validate_against_their_pool_as_the_server_would(
    platform: str, role: str
) -> None:
    from prefect.utilities.schema_tools.validation import validate

    entry = job_variables()[platform][role]
    kind, _ = TEMPLATES[entry["work_pool"]]
    assert kind == platform
    assert (entry["work_pool"] in SPOT_POOLS) == (role in {"fraud", "recs"})
    schema = template(entry["work_pool"])["variables"]
    validate(entry["job_variables"], schema, raise_on_error=True, preprocess=True)
    # every variable passed is declared by the pool (none silently ignored)
    assert set(entry["job_variables"]) <= set(schema["properties"])


def test_instance_types_named_for_cost_accounting_are_priced() -> None:
    prices = yaml.safe_load((ROOT / "infra" / "prices.yaml").read_text(encoding="utf-8"))
    for platform, role in ENTRIES:
        env = job_variables()[platform][role]["job_variables"]["env"]
        assert env["RETRAIN_INSTANCE_TYPE"] in prices["instance_types"], (platform, role)


@pytest.mark.usefixtures("aws")
def test_deployments_that_use_these_pools_render_with_their_settings() -> None:
    """What deployments/production.yaml passes to these pools must survive rendering."""
    definitions = yaml.safe_load((ROOT / "deployments" / "production.yaml").read_text("utf-8"))
    using = [
        d
        for d in definitions.get("deployments", [])
        if (d.get("work_pool") or {}).get("name") in TEMPLATES
    ]
    assert using, "deployments/production.yaml should place its deployments on these pools"
    for deployment in using:
        name, pool = deployment["name"], deployment["work_pool"]["name"]
        values = substitute(deployment["work_pool"].get("job_variables") or {})
        assert set(values) <= set(template(pool)["variables"]["properties"]), name
        assert (pool in SPOT_POOLS) == name.startswith("retrain-"), f"{name} on {pool}"
        if TEMPLATES[pool][0] == "kubernetes":
            manifest = render_k8s(pool, values)
            selector = json.dumps(pod_spec(manifest).get("nodeSelector", {})).lower()
            assert ("spot" in selector) == (pool in SPOT_POOLS), name
            assert_valid_k8s_job(manifest)
        else:
            task_definition, request = render_ecs(pool, values)
            strategy = request.get("capacityProviderStrategy", [])
            assert any(s["capacityProvider"] == "FARGATE_SPOT" for s in strategy) == (
                pool in SPOT_POOLS
            ), name
            assert not ("launchType" in request and strategy), name
            assert_valid_ecs_api_input(task_definition, request)


# ---------------------------------------------------------------- e2e: a real server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prefect_env(home: Path, api: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RETRAIN_"))}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT=str(BIN / "prefect"),
    )
    if api:
        env["PREFECT_API_URL"] = api
    return env


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `prefect server` with the pools created by ``create.sh``; yields the API URL."""
    home = tmp_path_factory.mktemp("prefect-server")
    with running_prefect_server(home) as server:
        env = prefect_env(home / "client-home", server.api)
        subprocess.run([str(POOLS / "create.sh")], env=env, check=True, timeout=600)
        yield server.api


def inspect_pools(pools: list[str], env: dict[str, str]) -> dict[str, str]:
    """`prefect work-pool inspect` of each pool (run side by side: each CLI start is slow)."""
    running = {
        pool: subprocess.Popen(
            [str(BIN / "prefect"), "work-pool", "inspect", pool],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for pool in pools
    }
    shown = {}
    for pool, process in running.items():
        out, _ = process.communicate(timeout=180)
        assert process.returncode == 0, out
        shown[pool] = out
    return shown


async def resolve_job(api: str, pool: str, values: dict[str, Any], name: str) -> Any:
    """Deploy with ``values`` on ``pool``, create a run, and resolve it as a worker does."""
    from prefect.client.orchestration import PrefectClient
    from prefect_aws.workers.ecs_worker import ECSJobConfiguration
    from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

    config_cls: Any = (
        KubernetesWorkerJobConfiguration
        if TEMPLATES[pool][0] == "kubernetes"
        else ECSJobConfiguration
    )
    async with PrefectClient(api=api) as client:
        flow_id = await client.create_flow_from_name("retrain-model")
        deployment_id = await client.create_deployment(
            flow_id=flow_id,
            name=name,
            entrypoint="flows/retrain_model.py:retrain_model",
            work_pool_name=pool,
            job_variables=values,
        )
        run = await client.create_flow_run_from_deployment(deployment_id)
        work_pool = await client.read_work_pool(pool)
        config = await config_cls.resolve_for_flow_run(
            run, client=client, work_pool=work_pool, worker_name="test-worker"
        )
        return config, run


@pytest.mark.e2e
@pytest.mark.usefixtures("aws")
# prefect-aws 0.5.13's prepare_for_flow_run predates `worker_id`; prefect falls back (infra/README)
@pytest.mark.filterwarnings("ignore:This worker is missing the")
def test_a_real_server_accepts_the_pools_and_renders_the_deployments_jobs(
    prefect_server: str, tmp_path: Path
) -> None:
    env = prefect_env(tmp_path / "client-home", prefect_server)
    shown = inspect_pools(sorted(TEMPLATES), env)
    for pool, (kind, _) in TEMPLATES.items():
        stored = httpx.get(f"{prefect_server}/work_pools/{pool}", timeout=10).json()
        assert stored["type"] == kind
        assert stored["base_job_template"] == template(pool)
        for variable in template(pool)["variables"]["properties"]:
            assert variable in shown[pool], (pool, variable)

    for platform, role in ENTRIES:
        entry = job_variables()[platform][role]
        pool, values = entry["work_pool"], entry["job_variables"]
        config, run = asyncio.run(resolve_job(prefect_server, pool, values, f"{platform}-{role}"))
        if platform == "kubernetes":
            spec = pod_spec(config.job_manifest)
            assert spec["nodeSelector"] == values.get("node_selector", {})
            if pool in SPOT_POOLS:
                assert spec["terminationGracePeriodSeconds"] == 110
                assert any(t["key"] == "karpenter.sh/capacity-type" for t in spec["tolerations"])
            assert_valid_k8s_job(config.job_manifest)
        else:
            task_definition, request = prepare_ecs(pool, config, run)
            if pool in SPOT_POOLS:
                assert request["capacityProviderStrategy"][0]["capacityProvider"] == "FARGATE_SPOT"
                assert "launchType" not in request
            else:
                assert request["launchType"] == "FARGATE"
                assert "capacityProviderStrategy" not in request
            assert_valid_ecs_api_input(task_definition, request)


@pytest.mark.e2e
def test_the_server_refuses_a_deployment_with_mistyped_spot_variables(prefect_server: str) -> None:
    flow = httpx.post(f"{prefect_server}/flows/", json={"name": "retrain-model"}, timeout=10)
    flow.raise_for_status()
    response = httpx.post(
        f"{prefect_server}/deployments/",
        json={
            "name": "bad",
            "flow_id": flow.json()["id"],
            "work_pool_name": "retrain-spot-k8s",
            "job_variables": {"termination_grace_period_seconds": "two minutes"},
        },
        timeout=10,
    )
    assert response.status_code == 422, response.text
    assert "termination_grace_period_seconds" in response.text
