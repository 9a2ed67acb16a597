"""Every shipped deployment in deployments/prefect.yaml: flow, parameters, triggers, schedules.

No Prefect server: the file is read the way ``prefect deploy`` and ``retrain serve``
read it, and each entry is checked against the flows and the shipped specs.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from schemas.deployments import DeploymentSpec, definitions_path, load_definitions
from schemas.errors import SpecError
from schemas.loader import list_specs
from schemas.params import IngestParams, MonitorParams, RetrainParams
from schemas.settings import Settings
from schemas.specs import load_model_spec
from tasks.io.deployments import build_deployments, load_entrypoint_flow

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PREFECT_FILE = ROOT / "deployments" / "prefect.yaml"
DATASETS = list_specs("datasets", None)
MODELS = list_specs("models", None)
FLOW_PARAMS = {
    "flows/ingest_dataset.py:ingest_dataset": IngestParams,
    "flows/retrain_model.py:retrain_model": RetrainParams,
    "flows/monitor_model.py:monitor_model": MonitorParams,
}
EVERY = (
    [f"ingest-{d}" for d in DATASETS]
    + [f"retrain-{m}" for m in MODELS]
    + [f"monitor-{m}" for m in MODELS]
)


@pytest.fixture(scope="module")
def specs() -> dict[str, DeploymentSpec]:
    return {s.name: s for s in load_definitions(PREFECT_FILE)}


@pytest.fixture
def raw() -> dict[str, Any]:
    """The parsed file, fresh for each test (some tests edit it)."""
    return dict(yaml.safe_load(PREFECT_FILE.read_text(encoding="utf-8")))


def resources(trigger: dict[str, Any]) -> set[str]:
    ids = trigger["match"]["prefect.resource.id"]
    return {ids} if isinstance(ids, str) else set(ids)


def triggers_on(spec: DeploymentSpec, event: str) -> list[dict[str, Any]]:
    return [t for t in spec.triggers if event in t["expect"]]


def parameter_model(entrypoint: str) -> type[BaseModel]:
    """The pydantic model of the flow's single parameter ``params``."""
    flow = load_entrypoint_flow(entrypoint)
    hints = typing.get_type_hints(flow.fn)
    hints.pop("return", None)
    assert list(hints) == ["params"], f"{entrypoint}: flows take one parameter, params"
    model = hints["params"]
    assert isinstance(model, type)
    assert issubclass(model, BaseModel)
    return model


# ---------------------------------------------------------------- the file itself


def test_default_path_is_the_deployments_folder_of_the_working_directory() -> None:
    assert definitions_path(Settings().deployments_dir) == Path("deployments/prefect.yaml")
    assert definitions_path(Path("/elsewhere")) == Path("/elsewhere/prefect.yaml")
    assert definitions_path(Settings().deployments_dir).resolve() == PREFECT_FILE  # run from root


def test_every_shipped_dataset_and_model_has_its_deployment(
    specs: dict[str, DeploymentSpec],
) -> None:
    assert {"transactions", "interactions", "items", "users"} <= set(DATASETS)
    assert {"fraud", "recs"} <= set(MODELS)
    expected = {f"ingest-{d}" for d in DATASETS} | {f"retrain-{m}" for m in MODELS}
    expected |= {f"monitor-{m}" for m in MODELS}

    assert set(specs) == expected


def test_prefect_deploy_accepts_the_file(raw: dict[str, Any]) -> None:
    """Prefect's own schema for prefect.yaml (a failure there makes `deploy` skip the file)."""
    from prefect.cli.deploy._models import PrefectYamlModel
    from prefect.events import DeploymentTriggerTypes
    from pydantic import TypeAdapter

    model = PrefectYamlModel.model_validate(raw)

    assert [d.name for d in model.deployments] == [d["name"] for d in raw["deployments"]]
    adapter: TypeAdapter[Any] = TypeAdapter(DeploymentTriggerTypes)
    for deployment in model.deployments:
        assert deployment.triggers, deployment.name
        for trigger in deployment.triggers:
            assert type(adapter.validate_python(trigger)).__name__ == "DeploymentEventTrigger"


def test_process_workers_run_from_the_repository(raw: dict[str, Any]) -> None:
    """The pull step changes to the folder the build step recorded at deploy time."""
    from prefect.deployments.steps import run_shell_script

    (build,) = raw["build"]
    (pull,) = raw["pull"]
    step = build["prefect.deployments.steps.run_shell_script"]
    where = pull["prefect.deployments.steps.set_working_directory"]["directory"]

    assert where == "{{ " + step["id"] + ".stdout }}"
    script = step["script"]
    default = asyncio.run(run_shell_script(script, str(ROOT), {"RETRAIN_REPO": ""}, False))
    chosen = asyncio.run(run_shell_script(script, str(ROOT), {"RETRAIN_REPO": "/srv/r"}, False))
    assert Path(default["stdout"]).resolve() == ROOT
    assert chosen["stdout"] == "/srv/r"


def test_work_pools_come_from_the_definitions(
    specs: dict[str, DeploymentSpec], raw: dict[str, Any]
) -> None:
    """Pools are named once, in `definitions.work_pools`: moving work to another pool
    (spot) edits that section, not the deployments."""
    pools = list(raw["definitions"]["work_pools"].values())

    for name, spec in specs.items():
        assert spec.work_pool is not None, name
        assert spec.work_pool.model_dump(exclude_none=True) in pools, name
    assert PREFECT_FILE.read_text(encoding="utf-8").count("work_pool: *") == len(specs)


# ---------------------------------------------------------------- each deployment


@pytest.mark.parametrize("name", EVERY)
def test_entrypoint_is_a_flow_and_parameters_fit_its_model(
    specs: dict[str, DeploymentSpec], name: str
) -> None:
    spec = specs[name]
    model = parameter_model(spec.entrypoint)

    assert model is FLOW_PARAMS[spec.entrypoint]
    assert set(spec.parameters) == {"params"}
    model.model_validate(spec.parameters["params"])
    for trigger in spec.triggers:
        assert set(trigger["parameters"]) == {"params"}, trigger["name"]
        assert trigger["parameters"] == spec.parameters, trigger["name"]


def test_prefect_resolves_the_entrypoints_from_the_repository_root(
    specs: dict[str, DeploymentSpec], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The way `prefect deploy` and a worker load them: a file path relative to the cwd."""
    from prefect import Flow
    from prefect.flows import load_flow_from_entrypoint

    monkeypatch.chdir(ROOT)
    for entrypoint in {s.entrypoint for s in specs.values()}:
        flow = load_flow_from_entrypoint(entrypoint)
        assert isinstance(flow, Flow)
        assert flow.name == load_entrypoint_flow(entrypoint).name


@pytest.mark.parametrize("dataset", DATASETS)
def test_ingestion_runs_daily_and_on_arrival(
    specs: dict[str, DeploymentSpec], dataset: str
) -> None:
    spec = specs[f"ingest-{dataset}"]

    assert spec.entrypoint == "flows/ingest_dataset.py:ingest_dataset"
    assert IngestParams.model_validate(spec.parameters["params"]).dataset == dataset
    (trigger,) = spec.triggers
    assert trigger["type"] == "event"
    assert set(trigger["expect"]) == {"retrain.data.arrived"}
    assert resources(trigger) == {f"retrain.dataset.{dataset}"}
    assert trigger["parameters"] == {"params": {"dataset": dataset}}


@pytest.mark.parametrize("model", MODELS)
def test_monitoring_runs_on_new_events_data_and_daily(
    specs: dict[str, DeploymentSpec], model: str
) -> None:
    spec = specs[f"monitor-{model}"]
    events_dataset = load_model_spec(model).datasets[0]

    assert spec.entrypoint == "flows/monitor_model.py:monitor_model"
    assert MonitorParams.model_validate(spec.parameters["params"]).model == model
    (updated,) = spec.triggers
    assert set(updated["expect"]) == {"retrain.dataset.updated"}
    assert resources(updated) == {f"retrain.dataset.{events_dataset}"}
    (schedule,) = spec.schedules
    ingest = specs[f"ingest-{events_dataset}"].schedules[0]
    assert schedule.cron != ingest.cron  # after the day's ingestion (30 1 vs 30 0)


@pytest.mark.parametrize("model", MODELS)
def test_retraining_runs_on_new_data_on_drift_and_daily(
    specs: dict[str, DeploymentSpec], model: str
) -> None:
    spec = specs[f"retrain-{model}"]
    datasets = load_model_spec(model).datasets

    assert spec.entrypoint == "flows/retrain_model.py:retrain_model"
    assert RetrainParams.model_validate(spec.parameters["params"]).model == model
    (updated,) = triggers_on(spec, "retrain.dataset.updated")
    assert resources(updated) == {f"retrain.dataset.{d}" for d in datasets}
    (drifted,) = triggers_on(spec, "retrain.model.drifted")
    assert resources(drifted) == {f"retrain.model.{model}"}
    (degraded,) = triggers_on(spec, "retrain.model.degraded")
    assert resources(degraded) == {f"retrain.model.{model}"}
    assert degraded["match"]["retrain.action"] == "retrain"  # not on rollback or alert-only
    assert len(spec.triggers) == 3
    for trigger in spec.triggers:
        assert trigger["type"] == "event"
        assert trigger["parameters"] == {"params": {"model": model}}


@pytest.mark.parametrize("name", EVERY)
def test_schedules_are_valid_cron_in_utc(specs: dict[str, DeploymentSpec], name: str) -> None:
    from prefect.client.schemas.schedules import CronSchedule

    schedules = specs[name].schedules

    assert len(schedules) == 1
    for schedule in schedules:
        assert schedule.timezone == "UTC"
        assert schedule.active
        CronSchedule(cron=schedule.cron, timezone=schedule.timezone)  # raises when invalid


@pytest.mark.parametrize("name", EVERY)
def test_one_run_at_a_time_per_dataset_and_model(
    specs: dict[str, DeploymentSpec], name: str
) -> None:
    limit = specs[name].concurrency_limit

    assert not isinstance(limit, int | None)
    assert (limit.limit, limit.collision_strategy) == (1, "ENQUEUE")


# ---------------------------------------------------------------- what `retrain serve` serves


def test_serve_builds_a_runner_deployment_for_each(specs: dict[str, DeploymentSpec]) -> None:
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy
    from prefect.deployments.runner import RunnerDeployment
    from prefect.events import DeploymentEventTrigger

    built = {d.name: d for d in build_deployments(PREFECT_FILE)}

    assert set(built) == set(specs)
    for name, deployment in built.items():
        spec = specs[name]
        assert isinstance(deployment, RunnerDeployment)
        assert deployment.flow_name == load_entrypoint_flow(spec.entrypoint).name
        assert deployment.parameters == spec.parameters
        assert deployment.concurrency_limit == 1
        assert deployment.concurrency_options is not None
        assert deployment.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.ENQUEUE
        assert [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules] == [
            (s.cron, s.timezone) for s in spec.schedules
        ]
        assert [type(t) for t in deployment.triggers] == [DeploymentEventTrigger] * len(
            spec.triggers
        )
        served = [(set(t.expect), t.parameters) for t in deployment.triggers]
        assert served == [(set(t["expect"]), t["parameters"]) for t in spec.triggers]
        assert deployment.work_pool_name is None  # served in-process, no worker


# ---------------------------------------------------------------- the loader refuses bad files


def _write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "deployments" / "prefect.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def _first(raw: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = raw["deployments"][0]
    return entry


def test_a_typo_names_the_file_and_field(tmp_path: Path, raw: dict[str, Any]) -> None:
    _first(raw)["schedule"] = _first(raw).pop("schedules")
    path = _write(tmp_path, raw)

    with pytest.raises(SpecError, match=r"prefect\.yaml: field 'deployments\.0\.schedule'"):
        load_definitions(path)


def test_parameters_that_do_not_fit_the_flow_are_refused(
    tmp_path: Path, raw: dict[str, Any]
) -> None:
    _first(raw)["parameters"] = {"params": {"model": "fraud"}}
    path = _write(tmp_path, raw)

    with pytest.raises(SpecError, match=r"deployment ingest-transactions: parameters"):
        build_deployments(path)


def test_trigger_parameters_that_do_not_fit_the_flow_are_refused(
    tmp_path: Path, raw: dict[str, Any]
) -> None:
    _first(raw)["triggers"][0]["parameters"] = {"params": {"dataset": "Not A Name"}}
    path = _write(tmp_path, raw)

    with pytest.raises(SpecError, match=r"ingest-transactions: trigger 1: parameters"):
        build_deployments(path)


def test_an_entrypoint_that_is_not_a_flow_is_refused(tmp_path: Path, raw: dict[str, Any]) -> None:
    _first(raw)["entrypoint"] = "flows/cli.py:main"
    path = _write(tmp_path, raw)

    with pytest.raises(SpecError, match=r"main is not a Prefect flow"):
        build_deployments(path)


def test_two_deployments_with_one_name_are_refused(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["deployments"].append(raw["deployments"][0])
    path = _write(tmp_path, raw)

    with pytest.raises(SpecError, match=r"used twice: ingest-transactions"):
        load_definitions(path)


def test_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"no deployment definitions there"):
        load_definitions(tmp_path / "nope.yaml")


# ---------------------------------------------------------------- `retrain serve` without an API


@pytest.mark.integration
def test_serve_without_an_api_says_how_to_start_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "RETRAIN_"))}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")

    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "retrain"), "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: no Prefect API configured")
    assert "prefect server start --host 127.0.0.1" in lines[0]
    assert "export PREFECT_API_URL=http://127.0.0.1:4200/api" in lines[0]
    assert "serving" not in done.stdout
