"""JSON the system writes: canonical bytes, strict values (pure)."""

from __future__ import annotations

import json
import math

import pytest

from tasks.core.documents import to_json_bytes, to_jsonable

pytestmark = pytest.mark.unit


def test_bytes_are_canonical_and_non_finite_numbers_become_null() -> None:
    doc = {"b": math.nan, "a": [1.0, math.inf, {"c": -math.inf}]}
    assert json.loads(to_json_bytes(doc)) == {"a": [1.0, None, {"c": None}], "b": None}
    assert to_json_bytes(doc) == to_json_bytes(dict(reversed(doc.items())))


def test_jsonable_keeps_the_order_of_keys() -> None:
    assert list(to_jsonable({"pr_auc": 0.3, "brier": math.nan})) == ["pr_auc", "brier"]
    assert to_jsonable({"x": (1, 2)}) == {"x": [1, 2]}


def test_numpy_values_become_json_values_and_times_keep_their_offset() -> None:
    import datetime as dt

    import numpy as np

    doc = {"passed": np.bool_(True), "failed": np.bool_(False), "n": np.int64(3),
           "x": np.float64(0.5), "nan": np.float64("nan"),
           "at": dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)}  # fmt: skip
    out = json.loads(to_json_bytes(doc))
    assert out == {"passed": True, "failed": False, "n": 3, "x": 0.5, "nan": None,
                   "at": "2026-10-01T12:00:00+00:00"}  # fmt: skip
    assert out["failed"] is False  # not the truthy string "False"


def test_a_check_is_never_a_numpy_bool() -> None:
    import numpy as np

    from tasks.core.gate.decision import Check

    assert type(Check("x", np.bool_(False), "d").passed) is bool
