"""Fault injection: ``retrain train`` and ``retrain rollback`` killed at each step
boundary, then rerun.

Each test starts ``retrain train fraud`` as a real process with ``RETRAIN_FAULT_AT`` set
(tasks/io/faults.py: the process ends with exit code 137 at that boundary, as if killed),
reruns it without the fault, runs ``retrain gc``, and checks what must hold whatever
happened: one champion, the pointer at the registry's generation, every registered
artifact matching its sha256, no version number given to two inputs, no run left
``running``, no unregistered version folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tasks.io.faults import EXIT_CODE, TRAINING_POINTS
from tests.reliability.conftest import Home, promote_twice

pytestmark = pytest.mark.integration

RETRAIN = str(Path(sys.executable).with_name("retrain"))


def retrain(home: Home, *args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**home.env, **({"RETRAIN_FAULT_AT": fault} if fault else {})}
    return subprocess.run(
        [RETRAIN, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def check_invariants(home: Home) -> dict[str, Any]:
    """Assert every invariant of the registry and the store; returns the champion pointer."""
    from schemas.settings import Settings
    from tasks.io import artifacts
    from tasks.io.runtime import close_all, runtime

    settings = Settings(home=home.root, database_url=home.database_url)
    try:
        registry = runtime(settings).registry
        versions = registry.list_model_versions("fraud")
        champions = [v.version for v in versions if v.status == "champion"]
        assert len(champions) == 1, versions
        row, generation = registry.champion_row("fraud")
        assert row == champions[0]
        pointer = json.loads((home.store / "models/fraud/champion.json").read_bytes())
        assert (pointer["version"], pointer["generation"]) == (row, generation)
        for record in versions:
            assert artifacts.verify_version(record, settings)["ok"], record.version
        reserved = {r.version: r.training_key for r in registry.list_reservations("fraud")}
        assert len(set(reserved.values())) == len(reserved)
        for record in versions:  # a registered number was reserved by these same inputs
            assert reserved.get(record.version, record.training_key) == record.training_key
        runs = registry.list_training_runs("fraud")
        assert [r.id for r in runs if r.status == "running"] == [], runs
        folders = {p.name for p in (home.store / "models/fraud").iterdir() if p.is_dir()}
        assert folders == {v.version for v in versions}, folders
        return pointer
    finally:
        close_all()


def in_process(home: Home, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """``retrain ARGS... --json`` in this process (the harness's API), on the test's home."""
    from tasks.io.runtime import close_all
    from tests.helpers.cli import cli

    for name in ("RETRAIN_HOME", "RETRAIN_DATABASE_URL", "RETRAIN_SPECS_DIR"):
        monkeypatch.setenv(name, home.env[name])
    try:
        result = cli(*args, "--json")
    finally:
        close_all()
    assert result.exit_code == 0, (args, result.output, result.exception)
    return json.loads(result.stdout)


@pytest.mark.parametrize("point", TRAINING_POINTS)
def test_a_train_killed_at_a_boundary_is_healed_by_the_rerun(
    home: Home, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    killed = retrain(home, "train", "fraud", fault=point)
    assert killed.returncode == EXIT_CODE, killed.stderr

    outcome = in_process(home, monkeypatch, "train", "fraud")
    assert outcome["champion"] == "v1", outcome
    collected = in_process(home, monkeypatch, "gc")
    assert collected["dry_run"] is False
    assert in_process(home, monkeypatch, "gc", "--dry-run")["removed"] == []

    pointer = check_invariants(home)
    assert pointer["version"] == "v1"


ROLLBACK_POINTS = ("after_cas", "before_pointer", "after_pointer")


def test_a_rollback_killed_at_each_boundary_is_healed_by_its_retry(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back and forth between v2 and v1, killed once at each boundary: each retry (naming
    the champion it expected to replace) finds its rollback done and moves nothing."""
    promote_twice(home)
    champion, target = "v2", "v1"
    for point in ROLLBACK_POINTS:
        move = ("rollback", "fraud", "--from", champion, "--to", target)
        killed = retrain(home, *move, fault=point)
        assert killed.returncode == EXIT_CODE, (point, killed.stderr)

        retried = in_process(home, monkeypatch, *move)
        assert (retried["from_version"], retried["to_version"]) == (champion, target), point
        assert retried["moved"] is False, point  # the killed run's compare-and-swap stands
        assert check_invariants(home)["version"] == target, point
        champion, target = target, champion
    ledger = in_process(home, monkeypatch, "history", "fraud")["ledger"]
    assert [(e["action"], e["to_version"]) for e in ledger] == [
        ("promote", "v1"), ("promote", "v2"),
        ("rollback", "v1"), ("rollback", "v2"), ("rollback", "v1"),
    ]  # fmt: skip


def test_an_ingestion_killed_after_its_manifest_reuses_the_number(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between writing v2's manifest and committing it: the rerun commits v2 (it used
    to skip to v3, leaving v2 an orphan, a number burned)."""
    import datetime as dt

    from schemas.settings import Settings
    from tasks.io.landing import write_landing
    from tasks.samples import sample_files

    settings = Settings(home=home.root, database_url=home.database_url)
    files = sample_files("transactions", 1, dt.date(2026, 10, 4), 9, rows_per_day=1200)
    for day, named in files.items():
        write_landing(settings, "transactions", day, named)
    killed = retrain(home, "ingest", "transactions", fault="after_manifest")
    assert killed.returncode == EXIT_CODE, killed.stderr
    manifests = home.store / "datasets/transactions"
    assert sorted(p.name for p in manifests.iterdir()) == ["v1.json", "v2.json"]

    rerun = in_process(home, monkeypatch, "ingest", "transactions")
    assert rerun["version"]["version"] == "v2", rerun
    assert sorted(p.name for p in manifests.iterdir()) == ["v1.json", "v2.json"]
    assert in_process(home, monkeypatch, "gc", "--dry-run")["removed"] == []
    audit = in_process(home, monkeypatch, "verify", "--all")
    assert audit["ok"] is True, audit
