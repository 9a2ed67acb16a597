"""``--json`` output means what it says: real booleans, null for NaN, ISO 8601 times (pure)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from flows.cli.app import emit

pytestmark = pytest.mark.unit


def test_emit_prints_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    when = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)
    data = {"ok": np.bool_(False), "value": float("nan"), "rows": np.int64(3),
            "scores": (np.float32(0.5), float("inf")), "at": when}  # fmt: skip

    emit(data, True, "text")

    doc = json.loads(capsys.readouterr().out, parse_constant=pytest.fail)
    assert doc == {"ok": False, "value": None, "rows": 3, "scores": [0.5, None],
                   "at": "2026-10-01T12:00:00+00:00"}  # fmt: skip
    assert doc["ok"] is False


def test_emit_prints_the_text_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    emit({"ok": True}, False, "all good")
    assert capsys.readouterr().out == "all good\n"
