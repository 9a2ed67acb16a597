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
