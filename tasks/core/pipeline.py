"""From a dataset frame to matrices, a trained challenger and scores on the holdout (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from schemas.specs import Features, ModelSpec
from tasks.core import features as feats
from tasks.core.evaluation import fingerprint_rows
from tasks.core.ranking_metrics import Truth
from tasks.core.splits import Windows, compute_windows, split_masks
from tasks.core.training import Checkpoints, Fitted, Matrix, Progress, fit_booster, predict


class NotEnoughData(Exception):  # noqa: N818 - an outcome, not a failure
    """The windows hold too few rows (or no positive label) to train and evaluate."""


@dataclass(frozen=True)
class Prepared:
    """Training inputs and the fingerprinted holdout of one dataset version."""

    windows: Windows
    encoding: feats.Encoding
    train: Matrix
    valid: Matrix
    test: Matrix
    test_frame: pd.DataFrame  # holdout rows with every built column (slices, keys)
    test_rows: np.ndarray  # positions of the holdout rows in the sorted dataset frame
    slice_columns: list[str]
    fingerprint: str
    test_groups: np.ndarray | None = None  # ranking: query group of each holdout row
    truth: Truth | None = None  # ranking: every relevant item of each holdout user
    info: dict[str, Any] = field(default_factory=dict)  # e.g. candidate recall, catalog size

    @property
    def rows(self) -> dict[str, int]:
        return {
            "train": len(self.train.y),
            "validation": len(self.valid.y),
            "test": len(self.test.y),
        }


def sort_events(frame: pd.DataFrame, time_col: str, keys: list[str]) -> pd.DataFrame:
    """Row order is part of the determinism contract: event time, then the primary key."""
    return frame.sort_values([time_col, *keys], kind="mergesort").reset_index(drop=True)


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
    for name, mask in zip(("train", "validation", "test"), masks, strict=True):
        count, positives = int(mask.sum()), int(y_all[mask].sum())
        if count < spec.split.min_rows or positives == 0:
            raise NotEnoughData(
                f"{name} window has {count} rows and {positives} positives "
                f"(needs {spec.split.min_rows} rows and a positive)"
            )
    encoding = feats.fit_encoding(built, masks[0])
    x_all = feats.encode(built.frame, encoding)
    train, valid, test = (Matrix(x_all[m], y_all[m]) for m in masks)
    test_frame = built.frame.loc[masks[2]].reset_index(drop=True)
    slices = [c for c in [*spec.policy_slice_columns()] if c in test_frame.columns]
    fingerprint = fingerprint_rows(test_frame[keys], test.y)
    test_rows = np.flatnonzero(masks[2])
    return Prepared(
        windows, encoding, train, valid, test, test_frame, test_rows, slices, fingerprint
    )


def train_model(
    spec: ModelSpec,
    prepared: Prepared,
    checkpoints: Checkpoints | None = None,
    resume: tuple[str, Progress] | None = None,
) -> Fitted:
    """Fit the challenger on the prepared matrices (resuming from a checkpoint if given)."""
    enc = prepared.encoding
    return fit_booster(
        spec,
        prepared.train,
        prepared.valid,
        enc.names,
        enc.categorical_indices,
        checkpoints,
        resume,
    )


def score_holdout(
    booster: lgb.Booster,
    features: Features,
    encoding: feats.Encoding,
    frame: pd.DataFrame,
    rows: np.ndarray,
) -> np.ndarray:
    """Score the holdout with any model, using its own features spec and encoding.

    Features are built on the whole (sorted) frame, so history features of the
    holdout rows see the same past as they did for the challenger.
    """
    built = feats.build(frame, features).frame
    return predict(booster, feats.encode(built.iloc[rows], encoding))
