"""Manual approval outside a deployment: the version waits, `retrain approve` answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tests.helpers.samples import Sample, relaxed_fraud_spec

pytestmark = pytest.mark.integration


@pytest.fixture
def approval_env(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    spec = relaxed_fraud_spec()
    spec["policy"]["approval"] = {"required": True, "timeout_minutes": 5}
    (tmp_path / "approval" / "models").mkdir(parents=True)
    (tmp_path / "approval" / "models" / "fraud.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.setenv("RETRAIN_SPECS_DIR", str(tmp_path / "approval"))
    return env


def _pending(sample: Sample, ingest: Callable[[], Any], retrain: Callable[..., Any]) -> dict:
    sample.land(sample.backfill)
    ingest()
    result = retrain()
    assert result["outcome"] == "pending_approval", result
    assert any("requires approval" in r for r in result["reasons"])
    return result


def test_approve_promotes_and_records_the_approver(
    approval_env: Path,
    sample: Sample,
    ingest: Callable[[], Any],
    retrain: Callable[..., Any],
    registry: Any,
) -> None:
    from flows.cli import app

    pending = _pending(sample, ingest, retrain)
    assert registry.champion("fraud") is None
    out = CliRunner().invoke(
        app,
        [
            "approve",
            "fraud",
            pending["version"],
            "--by",
            "ana@example.com",
            "--comment",
            "looks good",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    assert registry.champion("fraud").version == pending["version"]
    entry = registry.history("fraud")[-1]
    assert (entry.action, entry.actor, entry.reason) == ("approve", "ana@example.com", "looks good")
    again = CliRunner().invoke(app, ["approve", "fraud", pending["version"], "--by", "bob"])
    assert again.exit_code != 0  # nothing is waiting any more


def test_reject_keeps_the_champion_and_appends_a_ledger_entry(
    approval_env: Path,
    sample: Sample,
    ingest: Callable[[], Any],
    retrain: Callable[..., Any],
    registry: Any,
) -> None:
    from flows.cli import app

    pending = _pending(sample, ingest, retrain)
    out = CliRunner().invoke(
        app,
        [
            "approve",
            "fraud",
            pending["version"],
            "--by",
            "bob",
            "--reject",
            "--comment",
            "calibration looks off",
        ],
    )
    assert out.exit_code == 0, out.output
    assert registry.champion("fraud") is None
    assert registry.get_model_version("fraud", pending["version"]).status == "rejected"
    entry = registry.history("fraud")[-1]
    assert (entry.action, entry.to_version, entry.actor) == ("reject", pending["version"], "bob")
    assert registry.list_decisions("fraud")[0].outcome == "rejected"
