"""Binary classification: from a labelled events frame to a :class:`Prepared` (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.specs import ModelSpec
from tasks.core.train import features as feats
from tasks.core.train.booster import Matrix
from tasks.core.train.prepared import NotEnoughData, Prepared, fingerprint_rows
from tasks.core.train.splits import compute_windows, split_masks


def prepare_binary(
    frame: pd.DataFrame,
    spec: ModelSpec,
    time_col: str,
    keys: list[str],
    as_of: pd.Timestamp | None = None,
) -> Prepared:
    """Build features, place the windows and cut the train/validation/test matrices.

    Raises:
        NotEnoughData: a split has fewer than ``split.min_rows`` rows or no positive.
    """
    built = feats.build(frame, spec.features)
    times = built.frame[time_col]
    windows = compute_windows(as_of if as_of is not None else times.max(), spec.split)
    masks = split_masks(times, windows)
    y_all = built.frame[spec.target].to_numpy(dtype=float)
    names = ("train", "validation", "test")
    counts = {name: int(mask.sum()) for name, mask in zip(names, masks, strict=True)}
    positives = {name: int(y_all[mask].sum()) for name, mask in zip(names, masks, strict=True)}
    require_windows(counts, positives, spec.split.min_rows)
    encoding = feats.fit_encoding(built, masks[0])
    x_all = feats.encode(built.frame, encoding)
    rows = [_contiguous(m) for m in masks]
    train, valid, test = (Matrix(x_all[r], y_all[r]) for r in rows)
    test_frame = built.frame.iloc[rows[2]].reset_index(drop=True)
    slices = [c for c in [*spec.policy_slice_columns()] if c in test_frame.columns]
    fingerprint = fingerprint_rows(test_frame[keys], test.y)
    test_rows = np.flatnonzero(masks[2])
    return Prepared(
        windows, encoding, train, valid, test, test_frame, test_rows, slices, fingerprint
    )


def require_windows(rows: dict[str, int], positives: dict[str, int], min_rows: int) -> None:
    """Raises NotEnoughData: a split (train, validation, test) has fewer than ``min_rows``
    rows or no positive label."""
    for name, count in rows.items():
        if count < min_rows or positives[name] == 0:
            raise NotEnoughData(
                f"{name} window has {count} rows and {positives[name]} positives "
                f"(needs {min_rows} rows and a positive)"
            )


def _contiguous(mask: np.ndarray) -> slice | np.ndarray:
    """The rows of ``mask`` as a slice when they are one run (events sorted by time: each
    window is), so the matrices are views of the encoded rows rather than copies."""
    rows = np.flatnonzero(mask)
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return mask
