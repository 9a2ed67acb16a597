"""Drift reference profile of a model's holdout: feature and score histograms."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np

from tasks.core.train.booster import predict
from tasks.core.train.prepared import Prepared

BINS = 10


def histogram(values: np.ndarray) -> dict[str, Any]:
    """Decile edges and the share of values in each bin (NaN counted apart)."""
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return {"edges": [], "shares": [], "missing": 1.0}
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, BINS + 1)))
    counts = np.histogram(finite, bins=edges)[0] if len(edges) > 1 else np.array([len(finite)])
    return {
        "edges": edges.tolist(),
        "shares": (counts / len(values)).tolist(),
        "missing": float(1 - len(finite) / len(values)),
    }


def reference_profile(prepared: Prepared, booster: lgb.Booster) -> dict[str, Any]:
    """Per-feature and score histograms on the holdout, for later PSI drift checks."""
    x = prepared.test.x
    names = prepared.encoding.names
    return {
        "rows": len(x),
        "features": {name: histogram(x[:, i]) for i, name in enumerate(names)},
        "score": histogram(predict(booster, x)),
    }
