"""Spot interruption: SIGTERM, then SIGKILL, mid-training; the rerun gives the same model."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

RETRAIN = str(Path(sys.executable).with_name("retrain"))


def _spec_dir(root: Path) -> Path:
    """Fraud with many small rounds and no early stop, so a signal lands mid-training."""
    from schemas.loader import SHIPPED_DIR

    spec = yaml.safe_load((SHIPPED_DIR / "models" / "fraud.yaml").read_text())
    spec["lightgbm"].update(num_boost_round=400, early_stopping_rounds=400, checkpoint_every=10)
    spec["lightgbm"]["params"]["learning_rate"] = 0.01
    spec["split"]["min_rows"] = 300
    (root / "models").mkdir(parents=True)
    (root / "models" / "fraud.yaml").write_text(yaml.safe_dump(spec))
    return root


def _env(home: Path, specs: Path) -> dict[str, str]:
    return {**os.environ, "RETRAIN_HOME": str(home), "RETRAIN_SPECS_DIR": str(specs)}


def _run(home: Path, specs: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RETRAIN, *args],
        env=_env(home, specs),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _checkpoints(home: Path) -> list[Path]:
    return sorted((home / "store" / "checkpoints").rglob("round-*.txt"))


def _interrupt(
    home: Path, specs: Path, sig: int, after_rounds: int
) -> subprocess.CompletedProcess[str]:
    """Start training, send ``sig`` once a checkpoint past ``after_rounds`` exists.

    SIGKILL goes to the whole process group, as when a node disappears (the CLI's
    ephemeral Prefect server is a child process).
    """
    proc = subprocess.Popen(
        [RETRAIN, "train", "fraud"],
        env=_env(home, specs),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            rounds = [int(p.stem.split("-")[1]) for p in _checkpoints(home)]
            if rounds and max(rounds) >= after_rounds:
                if sig == signal.SIGKILL:
                    os.killpg(proc.pid, sig)
                else:
                    proc.send_signal(sig)
                break
            time.sleep(0.05)
        proc.wait(timeout=60)
    finally:
        _kill_group(proc.pid)  # what the node's end would take with it (Prefect's API server)
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def test_interrupted_training_resumes_to_the_same_model(tmp_path: Path) -> None:
    from schemas.settings import Settings
    from tasks.io.landing import write_landing
    from tasks.io.runtime import close_all
    from tasks.samples import sample_files

    specs = _spec_dir(tmp_path / "specs")
    a, b = tmp_path / "a", tmp_path / "b"
    files = sample_files("transactions", 6, dt.date(2026, 5, 1), 3, rows_per_day=1200)
    for home in (a, b):  # the same landing files in two homes
        for day, named in files.items():
            write_landing(Settings(home=home, specs_dir=specs), "transactions", day, named)
        close_all()
        assert _run(home, specs, "ingest", "transactions").returncode == 0

    stopped = _interrupt(a, specs, signal.SIGTERM, after_rounds=10)
    # The trainer checkpoints, then hands the signal to Prefect, which marks the run Crashed
    # (what the crash-recovery automation re-runs) and exits.
    assert stopped.returncode != 0, stopped.stderr
    assert "termination signal" in stopped.stderr or "interrupted by SIGTERM" in stopped.stderr
    assert _checkpoints(a), "SIGTERM must leave a checkpoint"
    first = max(int(p.stem.split("-")[1]) for p in _checkpoints(a))

    killed = _interrupt(a, specs, signal.SIGKILL, after_rounds=first + 20)
    assert killed.returncode == -signal.SIGKILL
    assert "resuming fraud from checkpoint" in killed.stderr + killed.stdout

    resumed = _run(a, specs, "train", "fraud", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming fraud from checkpoint" in resumed.stderr + resumed.stdout
    assert not _checkpoints(a), "checkpoints are deleted once the version is registered"

    whole = _run(b, specs, "train", "fraud")
    assert whole.returncode == 0, whole.stderr
    model_a = (a / "store/models/fraud/v1/model.txt").read_bytes()
    model_b = (b / "store/models/fraud/v1/model.txt").read_bytes()
    assert model_a == model_b
    card = json.loads((a / "store/models/fraud/v1/card.json").read_text())
    assert card["training"]["resumed_from_round"] >= first
