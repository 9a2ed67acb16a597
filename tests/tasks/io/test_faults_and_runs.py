"""The test-only fault hook, and telling a dead training run from a live one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from schemas.settings import Settings
from tasks.io.accounting import LOST_AFTER, is_abandoned
from tasks.io.faults import EXIT_CODE, POINTS, fault_point
from tasks.io.registry import TrainingRunRecord

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _run(
    details: dict[str, object], status: str = "running", age: float = 60.0
) -> TrainingRunRecord:
    started = NOW - timedelta(seconds=age)
    return TrainingRunRecord(
        1, "fraud", "k", None, status, None, started, None, 0.0, 0.0, "spot", None, None, details
    )


def test_an_unset_or_other_fault_point_does_nothing() -> None:
    for point in POINTS:
        fault_point(point, Settings())
        fault_point(point, Settings(fault_at="after_upload" if point != "after_upload" else None))


def test_an_unknown_fault_point_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown fault point 'after_lunch'"):
        fault_point("after_lunch", Settings())


@pytest.mark.integration
def test_the_named_fault_point_ends_the_process_with_137(tmp_path: Path) -> None:
    code = "from schemas.settings import load_settings\nfrom tasks.io.faults import fault_point\n"
    code += "fault_point('after_register', load_settings())\nprint('not reached')\n"
    env = {**os.environ, "RETRAIN_FAULT_AT": "after_register", "RETRAIN_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == EXIT_CODE
    assert "not reached" not in done.stdout


def test_a_run_of_this_host_is_abandoned_when_its_process_is_gone() -> None:
    probe = subprocess.Popen([sys.executable, "-c", "pass"])
    assert probe.wait() == 0
    host = socket.gethostname()
    assert is_abandoned(_run({"host": host, "pid": probe.pid}), NOW)
    assert not is_abandoned(_run({"host": host, "pid": os.getpid()}), NOW)
    assert not is_abandoned(_run({"host": host, "pid": probe.pid}, status="failed"), NOW)


def test_a_run_of_another_host_is_lost_only_after_the_lease() -> None:
    elsewhere = {"host": "some-other-node", "pid": 1}
    assert not is_abandoned(_run(elsewhere, age=60), NOW)
    assert is_abandoned(_run(elsewhere, age=LOST_AFTER.total_seconds() + 1), NOW)
    assert is_abandoned(_run({}, age=LOST_AFTER.total_seconds() + 1), NOW)  # before host/pid
