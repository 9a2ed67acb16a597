"""Nothing stale, nothing orphaned (issue 12, problems 5 and 6).

Races and failures leave no state behind: a run that loses the race for its inputs uploads
nothing and is closed ``lost_race``; a run whose process died is closed ``interrupted`` by
the next one; a recovery finding its version already champion succeeds; ``retrain gc``
removes leftovers and never anything registered. ``retrain verify`` looks at datasets
and at the registry's own consistency, not only at model artifacts.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.helpers.cli import cli
from tests.helpers.samples import Sample, read_json
from tests.helpers.store import tree

pytestmark = pytest.mark.integration

Run = Callable[..., dict[str, Any]]


def _sql(home: Path, *statements: str) -> None:
    engine = create_engine(f"sqlite:///{home / 'registry.db'}")
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    probe = subprocess.Popen([sys.executable, "-c", "pass"])
    assert probe.wait() == 0
    return probe.pid


def _settings() -> Any:
    from schemas.settings import load_settings

    return load_settings()


# ---------------------------------------------------------------- problem 5: leftovers


def test_a_run_whose_inputs_a_live_run_holds_uploads_nothing_and_ends_lost_race(
    env: Path, store_root: Path, sample: Sample, ingest: Run, retrain: Run, registry: Any
) -> None:
    from tasks.steps.train import plan_training

    sample.land(sample.backfill)
    ingest()
    key = plan_training.fn("fraud", None, _settings()).training_key
    here = {"host": socket.gethostname(), "pid": os.getpid()}  # alive: this process
    holder = registry.start_training_run("fraud", key, "on-demand", None, here)
    assert registry.reserve_version("fraud", key, holder.id).version == "v1"

    result = retrain()

    assert result["outcome"] == "skipped"
    assert "lost the race" in result["reasons"][0]
    assert tree(store_root, "models/fraud") == {}, "the loser uploads nothing"
    runs = {r.id: r.status for r in registry.list_training_runs("fraud")}
    assert runs.pop(holder.id) == "running"
    assert list(runs.values()) == ["lost_race"]


def test_a_run_left_running_by_a_dead_process_is_closed_as_interrupted(
    champion_home: Path, retrain: Run, registry: Any
) -> None:
    key = registry.list_model_versions("fraud")[0].training_key
    dead = {"host": socket.gethostname(), "pid": _dead_pid()}
    orphan = registry.start_training_run("fraud", key, "spot", None, dead)

    assert retrain()["outcome"] == "skipped"

    closed = registry.get_training_run(orphan.id)
    assert closed.status == "interrupted"
    assert "ended without closing the run" in closed.details["reason"]
    assert all(r.status != "running" for r in registry.list_training_runs("fraud"))


def test_a_recovery_finding_its_version_already_champion_succeeds(
    champion_home: Path, registry: Any
) -> None:
    """Another recovery of the same version promoted it first (it used to exit 1: "only a
    candidate can become rejected")."""
    from tasks.core.gate.decision import Outcome
    from tasks.io import promotions

    v1 = registry.get_model_version("fraud", "v1")
    outcome, reasons = promotions.settle(
        v1, None, Outcome.PROMOTED, ["passed"], {}, "test recovery", _settings()
    )

    assert outcome == Outcome.PROMOTED
    assert "already champion" in reasons[0]
    assert registry.champion("fraud").version == "v1"


def test_gc_removes_leftovers_and_never_anything_registered(
    env: Path, store_root: Path, sample: Sample, ingest: Run, retrain: Run, registry: Any
) -> None:
    stray_manifest = store_root / "datasets/transactions/v1.json"  # a killed ingestion's
    stray_manifest.parent.mkdir(parents=True)
    stray_manifest.write_bytes(b'{"from": "a killed ingestion"}')
    sample.land(sample.backfill)
    assert ingest()["version"]["version"] == "v2"
    assert retrain()["outcome"] == "promoted"
    registered = tree(store_root, "models/fraud/v1") | tree(store_root, "datasets/transactions/v2")
    pending = store_root / "datasets/transactions/v3.json"  # above the latest: may be in flight
    pending.write_bytes(b"{}")
    stray_version = store_root / "models/fraud/v2/model.txt"  # a dead run's upload
    stray_version.parent.mkdir(parents=True)
    stray_version.write_bytes(b"tree")
    stray_report = store_root / "reports/fraud/v2/report.html"  # and its evaluation report
    stray_report.parent.mkdir(parents=True)
    stray_report.write_bytes(b"<html>")
    monitoring = store_root / "reports/fraud/monitoring/20261001T000000Z/report.html"
    monitoring.parent.mkdir(parents=True)
    monitoring.write_bytes(b"<html>")
    key = registry.list_model_versions("fraud")[0].training_key
    checkpoint = store_root / f"checkpoints/fraud/{key}/round-000010.txt"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)  # emptied when v1 registered
    checkpoint.write_bytes(b"tree")

    dry = cli("gc", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    listed = json.loads(dry.stdout)
    assert listed["dry_run"] is True
    kinds = sorted(item["kind"] for item in listed["removed"])
    assert kinds == [
        "orphan_manifest", "stale_checkpoints", "unregistered_report", "unregistered_version"
    ]  # fmt: skip
    assert stray_version.exists() and stray_manifest.exists() and checkpoint.exists()
    assert stray_report.exists()

    done = cli("gc")
    assert done.exit_code == 0, done.output
    assert "removed unregistered_version" in done.stdout
    assert "models/fraud/v2/" in done.stdout
    assert not stray_version.exists()
    assert not stray_manifest.exists()
    assert not checkpoint.exists()
    assert not stray_report.exists()
    assert monitoring.exists(), "monitoring reports belong to no version: gc leaves them"
    assert tree(store_root, "reports/fraud/v1"), "the registered version's report stays"
    assert pending.exists(), "a manifest above the latest version may be a commit in progress"
    assert "kept:" in done.stdout
    assert tree(store_root, "models/fraud/v1") | tree(store_root, "datasets/transactions/v2") == (
        registered
    )
    assert cli("verify", "fraud").exit_code == 0
    assert json.loads(cli("gc", "--json").stdout)["removed"] == []


# ---------------------------------------------------------------- problem 6: verify


def _findings(*args: str) -> tuple[int, list[dict[str, str]], str]:
    result = cli("verify", *args, "--json")
    data = json.loads(result.stdout)
    every = data["findings"] + [f for m in data.get("models", []) for f in m["findings"]]
    return result.exit_code, every, cli("verify", *args).stdout


def test_verify_names_a_damaged_curated_partition(champion_home: Path, store_root: Path) -> None:
    partition = sorted((store_root / "curated/transactions").rglob("*.parquet"))[0]
    body = bytearray(partition.read_bytes())
    body[len(body) // 2] ^= 0x01
    partition.write_bytes(bytes(body))

    for args in (("fraud",), ("--all",)):
        code, findings, text_out = _findings(*args)
        assert code == 1, args
        assert [f["what"] for f in findings] == ["curated partition damaged"], findings
        assert findings[0]["where"] == partition.as_uri()
        assert "sha256 mismatch" in findings[0]["detail"]
        assert f"FINDING curated partition damaged: {partition.as_uri()}" in text_out
        assert "transactions v1: FAILED" in text_out


def test_verify_names_an_edited_dataset_manifest(champion_home: Path, store_root: Path) -> None:
    path = store_root / "datasets/transactions/v1.json"
    manifest = read_json(path)
    manifest["rows"] += 1
    path.write_text(json.dumps(manifest))

    code, findings, _ = _findings("--all")

    assert code == 1
    assert [(f["what"], f["where"]) for f in findings] == [
        ("dataset manifest damaged", path.as_uri())
    ]


def test_verify_names_a_champion_row_that_disagrees_with_model_versions(
    champion_home: Path,
) -> None:
    _sql(champion_home, "UPDATE model_versions SET status = 'archived' WHERE version = 'v1'")

    code, findings, text_out = _findings("fraud")

    assert code == 1
    assert "champion row disagrees with model_versions" in [f["what"] for f in findings]
    assert "champions row names v1, model_versions has None as champion" in text_out


def test_verify_names_a_champion_swapped_by_sql_without_a_ledger_entry(
    champion_home: Path, registry: Any
) -> None:
    from dataclasses import asdict, fields

    from tasks.io.registry import NewModelVersion

    v1 = asdict(registry.get_model_version("fraud", "v1"))
    wanted = {f.name for f in fields(NewModelVersion)}
    registry.register_model_version(
        NewModelVersion(**{**{k: v1[k] for k in wanted}, "version": "v2", "training_key": "k2"})
    )
    _sql(
        champion_home,
        "UPDATE model_versions SET status = 'archived' WHERE version = 'v1'",
        "UPDATE model_versions SET status = 'champion' WHERE version = 'v2'",
        "UPDATE champions SET version = 'v2'",
    )

    code, findings, _ = _findings("fraud")

    assert code == 1
    whats = [f["what"] for f in findings]
    assert "champion changed without a ledger entry" in whats
    ledger = next(f for f in findings if f["what"] == "champion changed without a ledger entry")
    assert ledger["detail"] == "champions row names v2, the ledger's last promotion v1"
