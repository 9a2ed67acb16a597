"""Time-based train/validation/test windows on the data's own clock."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from schemas.specs import Split


@dataclass(frozen=True)
class Windows:
    """Train [train_start, val_start), validation [val_start, test_start) and test
    [test_start, test_end], test_end being ``as_of`` minus the label-maturity delay."""

    as_of: pd.Timestamp
    train_start: pd.Timestamp
    val_start: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp

    def to_dict(self) -> dict[str, str]:
        return {k: v.isoformat() for k, v in self.__dict__.items()}


def compute_windows(as_of: pd.Timestamp, split: Split) -> Windows:
    """Place the windows backwards from ``as_of`` (the newest event time, not the wall clock).

    Rows newer than ``as_of - label_maturity`` are excluded: their labels are not final.
    """
    day = pd.Timedelta(days=1)
    test_end = as_of - split.label_maturity_days * day
    test_start = test_end - split.test_days * day
    val_start = test_start - split.validation_days * day
    train_start = val_start - split.training_window_days * day
    return Windows(as_of, train_start, val_start, test_start, test_end)


def split_masks(times: pd.Series, w: Windows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks (train, validation, test) for event times."""

    def between(start: pd.Timestamp, end: pd.Timestamp, closed: str) -> np.ndarray:
        return times.between(start, end, inclusive=closed).to_numpy(dtype=bool)

    return (
        between(w.train_start, w.val_start, "left"),
        between(w.val_start, w.test_start, "left"),
        between(w.test_start, w.test_end, "both"),
    )
