"""JSON documents the system writes (cards, reports, pointers): strict and canonical."""

from __future__ import annotations

import json
import math
from typing import Any


def to_json_bytes(data: Any) -> bytes:
    """Canonical, strict JSON (sorted keys; NaN and infinities become null)."""
    return json.dumps(_clean(data), sort_keys=True, indent=1, default=str).encode()


def _clean(value: Any) -> Any:
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
