"""A dataset version made ready for one model: matrices, the fingerprinted holdout (pure).

``binary.py`` and ``ranking.py`` prepare a :class:`Prepared` from the dataset frames;
training, scoring the holdout and gathering the gate's evidence all read it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.specs import Features, ModelSpec
from tasks.core.train import features as feats
from tasks.core.train.booster import Checkpoints, Fitted, Matrix, Progress, fit_booster, predict
from tasks.core.train.candidates import Truth
from tasks.core.train.splits import Windows


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
    """Row order is part of the determinism contract: event time, then the primary key.

    Arrow's stable sort gives the order pandas' stable sort would (nulls last on every
    key) in a fraction of the time on string keys; columns Arrow cannot hold (mixed
    objects) fall back to pandas.
    """
    columns = list(dict.fromkeys([time_col, *keys]))  # no primary key: keys hold time_col
    try:
        table = pa.Table.from_pandas(frame[columns], preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return frame.sort_values(columns, kind="mergesort").reset_index(drop=True)
    order = pc.sort_indices(table, sort_keys=[(c, "ascending") for c in columns]).to_numpy()
    if np.array_equal(order, np.arange(len(order))):  # partitions in date order often are
        return frame.reset_index(drop=True)
    return frame.take(order).reset_index(drop=True)


def fingerprint_rows(keys: pd.DataFrame, labels: np.ndarray) -> str:
    """sha256 over the holdout's row keys and labels, in scoring order."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(keys, index=False).to_numpy().tobytes())
    digest.update(np.asarray(labels, dtype=np.int64).tobytes())
    return digest.hexdigest()


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
