"""Checkpoints that heal: a damaged round file or pointer costs rounds, never the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.core.train.booster import Progress
from tasks.io.checkpoints import StoreCheckpoints
from tasks.io.stores import FileStore

pytestmark = pytest.mark.unit
KEY = "a" * 64


def saved(tmp_path: Path, noted: list[dict[str, Any]] | None = None) -> StoreCheckpoints:
    store = FileStore(tmp_path / "store")
    sink = noted.append if noted is not None else None
    checkpoints = StoreCheckpoints(store, "fraud", KEY, 25, noted=sink)
    for rounds in (25, 50):
        checkpoints.save(f"model text at round {rounds}", Progress(rounds, rounds - 5, 0.5))
    return checkpoints


def round_file(tmp_path: Path, rounds: int) -> Path:
    return tmp_path / "store" / "checkpoints" / "fraud" / KEY / f"round-{rounds:06d}.txt"


def test_the_newest_intact_checkpoint_is_used(tmp_path: Path) -> None:
    loaded = saved(tmp_path).load()
    assert loaded is not None and loaded[0] == "model text at round 50"
    assert loaded[1].rounds == 50


def test_a_damaged_newest_round_falls_back_to_the_previous_one(tmp_path: Path) -> None:
    noted: list[dict[str, Any]] = []
    checkpoints = saved(tmp_path, noted)
    path = round_file(tmp_path, 50)
    path.write_bytes(path.read_bytes().replace(b"50", b"51"))

    healed = StoreCheckpoints(checkpoints.store, "fraud", KEY, 25, known=noted)
    loaded = healed.load()

    assert loaded is not None and loaded[1].rounds == 25
    assert any("round-000050.txt" in why and "sha256 mismatch" in why for why in healed.skipped)


def test_a_truncated_pointer_is_skipped_and_the_registry_copy_used(tmp_path: Path) -> None:
    noted: list[dict[str, Any]] = []
    checkpoints = saved(tmp_path, noted)
    pointer = tmp_path / "store" / "checkpoints" / "fraud" / KEY / "latest.json"
    pointer.write_bytes(pointer.read_bytes()[:20])

    healed = StoreCheckpoints(checkpoints.store, "fraud", KEY, 25, known=noted)
    loaded = healed.load()

    assert loaded is not None and loaded[1].rounds == 50
    assert any("latest.json: unreadable" in why for why in healed.skipped)
    without = StoreCheckpoints(checkpoints.store, "fraud", KEY, 25).load()  # no registry copy
    assert without is None  # a truncated pointer alone: a fresh start, not a traceback


def test_nothing_intact_means_a_fresh_start(tmp_path: Path) -> None:
    noted: list[dict[str, Any]] = []
    checkpoints = saved(tmp_path, noted)
    for rounds in (25, 50):
        round_file(tmp_path, rounds).unlink()
    healed = StoreCheckpoints(checkpoints.store, "fraud", KEY, 25, known=noted)
    assert healed.load() is None
    assert len(healed.skipped) == 2


@pytest.mark.integration
def test_the_registry_keeps_each_checkpoint_of_a_run_through_its_end(tmp_path: Path) -> None:
    from tasks.io.registry import Registry

    registry = Registry.open(f"sqlite:///{tmp_path / 'r.db'}")
    run = registry.start_training_run("fraud", KEY, "spot", None)
    registry.note_checkpoint(run.id, {"key": "k25", "sha256": "s", "progress": {"rounds": 25}})
    registry.note_checkpoint(run.id, {"key": "k50", "sha256": "t", "progress": {"rounds": 50}})
    registry.finish_training_run(run.id, "failed", None, None, 1.0, 1.0, 0.0, {"why": "x"})

    assert [c["key"] for c in registry.checkpoints("fraud", KEY)] == ["k25", "k50"]
    assert registry.checkpoints("fraud", "b" * 64) == []
    (closed,) = registry.list_training_runs("fraud")
    assert closed.details["why"] == "x" and len(closed.details["checkpoints"]) == 2
    registry.close()
