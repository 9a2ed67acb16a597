"""JSON documents the system writes (cards, reports, pointers): strict and canonical."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

import numpy as np


def to_json_bytes(data: Any) -> bytes:
    """Canonical, strict JSON (sorted keys; NaN and infinities become null)."""
    return json.dumps(_clean(data), sort_keys=True, indent=1, default=str).encode()


def _clean(value: Any) -> Any:
    """Strict JSON values: numpy scalars as Python ones (a numpy bool is a JSON boolean, not
    the string "True"), non-finite floats as null, times as ISO 8601 with their offset."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def to_jsonable(data: Any) -> Any:
    """``data`` as strict JSON values (as :func:`to_json_bytes` writes them), in its own order."""
    return json.loads(json.dumps(_clean(data), default=str))
