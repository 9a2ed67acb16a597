"""The lock files: every pin hashed, the runtime lock free of test tools, dev a superset."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)")
DEV_ONLY = {"pytest", "pytest-xdist", "pytest-cov", "ruff", "mypy", "moto", "selenium"}


def _pins(name: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a pip-compile --generate-hashes file."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current: str | None = None
    for line in (ROOT / name).read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = match.group(1).lower().replace("_", "-")
            pins[current] = (match.group(2), [])
        elif current and line.strip().startswith("--hash=sha256:"):
            pins[current][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        elif line and not line.startswith((" ", "#")):
            current = None
    return pins


@pytest.mark.parametrize("name", ["requirements.lock", "requirements-dev.lock"])
def test_every_pin_carries_sha256_hashes(name: str) -> None:
    pins = _pins(name)
    assert len(pins) > 50
    unhashed = [p for p, (_, hashes) in pins.items() if not hashes]
    assert unhashed == []
    bad = [h for _, hashes in pins.values() for h in hashes if not re.fullmatch("[0-9a-f]{64}", h)]
    assert bad == []


def test_the_runtime_lock_has_no_test_tools_and_dev_pins_the_same_versions() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert DEV_ONLY.isdisjoint(runtime), DEV_ONLY & set(runtime)
    assert set(dev) >= DEV_ONLY
    assert {"prefect", "lightgbm", "prefect-kubernetes", "prefect-aws"} <= set(runtime)
    moved = {p: (v, dev[p][0]) for p, (v, _) in runtime.items() if dev.get(p, (v,))[0] != v}
    assert moved == {}
    assert set(runtime) <= set(dev)


def test_the_locks_name_no_machine_paths() -> None:
    for name in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / name).read_text()
        assert "/tmp/" not in text and "/work/" not in text and "file://" not in text, name
