"""The drift reference each trained version keeps: a seeded sample of its holdout's model
inputs (raw values) and of its scores on them (pure)."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from tasks.core.sampling import sample_positions
from tasks.core.train.booster import predict
from tasks.core.train.prepared import Prepared

FORMAT = 2  # format 1 (histograms only) cannot be compared with raw recent values
NUMERIC, CATEGORICAL = "numeric", "categorical"


def reference_profile(
    prepared: Prepared, booster: lgb.Booster, rows: int, seed: int
) -> dict[str, Any]:
    """Up to ``rows`` holdout rows (seeded): each model input's values and the score.

    Numeric inputs keep floats (NaN for missing), categorical ones their strings
    (None for missing), so monitoring compares like with like and unseen categories show.
    """
    frame = prepared.test_frame
    keep = sample_positions(len(frame), rows, seed)
    scores = predict(booster, prepared.test.x[keep])  # only the rows it keeps
    columns = {name: (NUMERIC, frame[name]) for name in prepared.encoding.numeric}
    columns |= {name: (CATEGORICAL, frame[name]) for name in prepared.encoding.categorical}
    windows = prepared.windows
    return {
        "format": FORMAT,
        "holdout_rows": len(frame),
        "rows": len(keep),
        "window": {"start": windows.test_start.isoformat(), "end": windows.test_end.isoformat()},
        "columns": {
            name: {"kind": kind, "values": column_values(kind, values.to_numpy()[keep])}
            for name, (kind, values) in columns.items()
        },
        "score": [float(v) for v in scores],
    }


def column_values(kind: str, values: np.ndarray) -> list[Any]:
    """JSON-ready values: floats (None for missing) or strings (None for missing)."""
    if kind == NUMERIC:
        floats = pd.to_numeric(pd.Series(values), errors="coerce").astype(float).to_numpy()
        return [None if np.isnan(v) else float(v) for v in floats]
    return [None if pd.isna(v) else str(v) for v in values]
