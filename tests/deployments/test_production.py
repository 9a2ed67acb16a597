"""deployments/production.yaml (spot placement) and deployments/automations.yaml (crash recovery).

No Prefect server (tests/e2e/test_automations.py runs the automation on one): the
production file must load like deployments/prefect.yaml, agree with it on everything
but placement, and put retraining on spot and ingestion on on-demand capacity.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from schemas.automations import load_automations
from schemas.deployments import load_definitions
from schemas.errors import SpecError
from schemas.params import MAX_RECOVERY_ATTEMPT, RetrainParams
from tasks.io.deployments import RECOVERY_PARAMS_TEMPLATE, build_automations, build_deployments

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "deployments" / "prefect.yaml"
AUTOMATIONS = ROOT / "deployments" / "automations.yaml"
PRODUCTION = ROOT / "deployments" / "production.yaml"
JOB_VARIABLES = ROOT / "infra" / "work-pools" / "job-variables.yaml"
PRICES = ROOT / "infra" / "prices.yaml"
PLACEMENT = ("work_pool", "pull", "build")  # what may differ per deployment entry


def raw(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def role(name: str) -> str:
    """The job-variables.yaml entry of a deployment: ingestion, or the model's name."""
    if name.startswith("ingest-"):
        return "ingestion"
    return "monitoring" if name.startswith("monitor-") else name.removeprefix("retrain-")


# ---------------------------------------------------------------- production.yaml


@pytest.mark.parametrize("path", [DEFAULT, PRODUCTION], ids=["prefect", "production"])
def test_both_files_load_resolve_their_entrypoints_and_fit_the_flows(path: Path) -> None:
    from prefect.cli.deploy._models import PrefectYamlModel

    PrefectYamlModel.model_validate(raw(path))  # what `prefect deploy` checks
    specs = load_definitions(path)
    built = build_deployments(path)  # imports each flow, validates parameters and triggers

    assert [d.name for d in built] == [s.name for s in specs]


def test_the_files_agree_on_everything_but_placement() -> None:
    default, production = raw(DEFAULT), raw(PRODUCTION)

    def unplaced(doc: dict[str, Any]) -> dict[str, Any]:
        doc = copy.deepcopy(doc)
        for key in ("build", "pull"):
            doc.pop(key, None)
        doc["definitions"].pop("work_pools")
        for entry in doc["deployments"]:
            for key in PLACEMENT:
                entry.pop(key, None)
        return doc

    assert unplaced(production) == unplaced(default)
    assert [d["name"] for d in production["deployments"]] == [
        d["name"] for d in default["deployments"]
    ]


def test_local_use_stays_on_the_process_pool() -> None:
    for spec in load_definitions(DEFAULT):
        assert spec.work_pool is not None
        assert spec.work_pool.name == "retrain-process", spec.name


def test_retraining_runs_on_spot_and_ingestion_on_on_demand() -> None:
    known = set(yaml.safe_load(PRICES.read_text(encoding="utf-8"))["instance_types"])
    specs = load_definitions(PRODUCTION)
    assert {s.name for s in specs if s.name.startswith("retrain-")} == {
        "retrain-fraud",
        "retrain-recs",
    }

    for spec in specs:
        pool = spec.work_pool
        assert pool is not None, spec.name
        env = pool.job_variables["env"]
        assert env["RETRAIN_INSTANCE_TYPE"] in known, spec.name
        if spec.name.startswith("retrain-"):
            assert pool.name == "retrain-spot-k8s", spec.name
            assert env["RETRAIN_CAPACITY_TYPE"] == "spot", spec.name
            assert pool.job_variables["node_selector"] == {"karpenter.sh/capacity-type": "spot"}
        else:
            assert pool.name == "retrain-on-demand-k8s", spec.name
            assert env["RETRAIN_CAPACITY_TYPE"] == "on-demand", spec.name
            assert "node_selector" not in pool.job_variables, spec.name


def test_job_variables_are_the_ones_infra_renders_and_tests() -> None:
    """Per model (fraud 4Gi, recs 8Gi): the values of infra/work-pools/job-variables.yaml."""
    infra = yaml.safe_load(JOB_VARIABLES.read_text(encoding="utf-8"))["kubernetes"]

    for spec in load_definitions(PRODUCTION):
        expected = infra[role(spec.name)]
        assert spec.work_pool is not None
        assert spec.work_pool.name == expected["work_pool"], spec.name
        assert spec.work_pool.job_variables == expected["job_variables"], spec.name


def test_container_runs_start_in_the_image_source_folder() -> None:
    doc = raw(PRODUCTION)

    assert "build" not in doc
    assert doc["pull"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "/app"}}
    ]


# ---------------------------------------------------------------- automations.yaml


def test_crash_recovery_reruns_crashed_retraining_through_its_deployment() -> None:
    from prefect.events.actions import RunDeployment
    from prefect.events.schemas.automations import EventTrigger

    spec = load_automations(AUTOMATIONS).crash_recovery
    (automation,) = build_automations(AUTOMATIONS)
    retrain_flows = {
        s.entrypoint for s in load_definitions(DEFAULT) if s.name.startswith("retrain-")
    }

    assert retrain_flows == {"flows/retrain_model.py:retrain_model"}
    from flows.retrain_model import retrain_model

    assert spec.flow == retrain_model.name
    assert automation.name == spec.name == "retrain-crash-recovery"
    assert automation.enabled
    trigger = automation.trigger
    assert isinstance(trigger, EventTrigger)
    assert trigger.expect == {"prefect.flow-run.Crashed"}
    assert trigger.posture == "Reactive"
    assert trigger.threshold == 1
    related = trigger.match_related
    assert isinstance(related, list)
    assert [dict(r.items()) for r in related] == [
        {"prefect.resource.role": ["flow"], "prefect.resource.name": ["retrain-model"]},
        {"prefect.resource.role": ["deployment"], "prefect.resource.id": ["prefect.deployment.*"]},
    ]
    (action,) = automation.actions
    assert isinstance(action, RunDeployment)
    assert action.source == "inferred"
    assert action.deployment_id is None
    assert action.parameters == {"params": RECOVERY_PARAMS_TEMPLATE}
    assert 1 <= spec.max_recoveries < MAX_RECOVERY_ATTEMPT


def test_the_recovery_template_adds_one_and_keeps_the_other_parameters() -> None:
    """Rendered locally with Prefect's own sandboxed Jinja (the e2e test uses a server)."""
    import asyncio
    import json

    from prefect.server.utilities.user_templates import render_user_template

    def render(params: dict[str, Any]) -> Any:
        inner = RECOVERY_PARAMS_TEMPLATE.strip()[2:-2].strip()
        context = {"flow_run": {"parameters": {"params": params}}}
        text = asyncio.run(render_user_template("{{ " + inner + " | tojson }}", context))
        return json.loads(text)

    assert render({"model": "fraud"}) == {"model": "fraud", "recovery_attempt": 1}
    assert render({"model": "recs", "dataset_version": "v4", "recovery_attempt": 1}) == {
        "model": "recs",
        "dataset_version": "v4",
        "recovery_attempt": 2,
    }
    RetrainParams.model_validate(render({"model": "fraud", "recovery_attempt": 2}))


def test_the_flow_refuses_a_recovery_beyond_the_max() -> None:
    spec = load_automations(AUTOMATIONS).crash_recovery
    limit = spec.max_recoveries

    assert spec.refusal(0) is None
    for attempt in range(1, limit + 1):
        assert spec.refusal(attempt) is None
    reason = spec.refusal(limit + 1)
    assert reason is not None
    assert reason.startswith(f"crash recovery attempt {limit + 1} refused: max_recoveries is")


def test_recovery_attempt_is_bounded_and_defaults_to_zero() -> None:
    assert RetrainParams(model="fraud").recovery_attempt == 0
    for bad in (-1, MAX_RECOVERY_ATTEMPT + 1):
        with pytest.raises(ValidationError):
            RetrainParams(model="fraud", recovery_attempt=bad)


def test_a_bad_automations_file_names_the_field(tmp_path: Path) -> None:
    doc = raw(AUTOMATIONS)
    doc["crash_recovery"]["max_recoveries"] = MAX_RECOVERY_ATTEMPT
    path = tmp_path / "automations.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")

    with pytest.raises(SpecError, match=r"crash_recovery\.max_recoveries"):
        load_automations(path)
    with pytest.raises(SpecError, match=r"no automations file there"):
        load_automations(tmp_path / "nope.yaml")
