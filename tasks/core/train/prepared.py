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

MAX_TIES_OUT_OF_ORDER = 10_000  # more: one sort of every column is the cheaper way


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
    train_rows: int | None = None  # set when ``train`` is a sample (the rest on a Dask cluster)

    @property
    def rows(self) -> dict[str, int]:
        return {
            "train": len(self.train.y) if self.train_rows is None else self.train_rows,
            "validation": len(self.valid.y),
            "test": len(self.test.y),
        }


def sort_events(frame: pd.DataFrame, time_col: str, keys: list[str]) -> pd.DataFrame:
    """Row order is part of the determinism contract: event time, then the primary key.

    Arrow's stable sort gives the order pandas' stable sort would (nulls last on every
    key) in a fraction of the time on string keys; columns Arrow cannot hold (mixed
    objects) fall back to pandas. Most often the rows are in time order already and only a
    few tie groups are out of key order: then only those are sorted (``_by_time_alone``).
    """
    columns = list(dict.fromkeys([time_col, *keys]))  # no primary key: keys hold time_col
    try:
        table = pa.Table.from_pandas(frame[columns], preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return frame.sort_values(columns, kind="mergesort").reset_index(drop=True)
    order = _by_time_alone(table, columns)
    if order is None:
        order = pc.sort_indices(table, sort_keys=[(c, "ascending") for c in columns]).to_numpy()
    return _reordered(frame, order)


def _reordered(frame: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    """``frame``'s rows in ``order``, with a fresh index."""
    moved = np.flatnonzero(order != np.arange(len(order)))
    if not len(moved):  # partitions in date order of files in event order often are
        return frame.reset_index(drop=True)
    edges = np.flatnonzero(np.diff(moved) > 1) + 1
    runs = [(int(r[0]), int(r[-1]) + 1) for r in np.split(moved, edges)]
    if len(runs) > MAX_TIES_OUT_OF_ORDER or not all(
        start <= order[start:end].min() and order[start:end].max() < end for start, end in runs
    ):
        return frame.take(order).reset_index(drop=True)
    # Rows reordered only among themselves (tie groups): each run is a slice put in its own
    # order, the rows in place stay slices. At 3M rows with 81 rows moved, measured in the
    # flow: 0.15 s here against 1.5 s for a take of every row (whose contiguous columns
    # made the features and matrices 0.3-0.6 s faster: still a net gain).
    pieces, done = [], 0
    for start, end in runs:
        pieces += [frame.iloc[done:start], frame.iloc[start:end].take(order[start:end] - start)]
        done = end
    return pd.concat([*pieces, frame.iloc[done:]], ignore_index=True)


def _by_time_alone(table: pa.Table, columns: list[str]) -> np.ndarray | None:
    """The stable sort's order, found from the first (time) column: a stable numpy sort of
    its integers (none when they already rise, as partitions in date order of files written
    in event order do), then only the groups of rows tied on it whose other columns are out
    of order are sorted (Arrow's stable sort, on those rows alone). That is exactly the
    multi-column stable sort's order, without sorting millions of string keys. None (sort
    every column) with nulls, a first column that is not integers or timestamps, or more
    than MAX_TIES_OUT_OF_ORDER tied pairs out of order."""
    first, rows = table.column(columns[0]), table.num_rows
    if rows < 2 or any(table.column(c).null_count for c in columns):
        return None
    if not (pa.types.is_timestamp(first.type) or pa.types.is_integer(first.type)):
        return None
    values, rest = first.cast(pa.int64()).to_numpy(), table.select(columns[1:])
    if bool((values[1:] >= values[:-1]).all()):
        order = np.arange(rows)
    else:
        order = np.argsort(values, kind="stable")
        values, rest = values[order], rest.take(pa.array(order))
    tied = values[1:] == values[:-1]
    if len(columns) == 1 or not tied.any():
        return order
    out_of_order = np.flatnonzero(tied & ~_rising(rest))
    if len(out_of_order) > MAX_TIES_OUT_OF_ORDER:
        return None
    starts = np.flatnonzero(np.r_[True, ~tied])  # each tie group's first row
    ends = np.r_[starts[1:], rows]
    keys = [(c, "ascending") for c in columns[1:]]
    for group in np.unique(np.searchsorted(starts, out_of_order, side="right") - 1):
        lo, hi = int(starts[group]), int(ends[group])
        within = pc.sort_indices(rest.slice(lo, hi - lo), sort_keys=keys).to_numpy()
        order[lo:hi] = order[lo:hi][within]
    return order


def _rising(table: pa.Table) -> np.ndarray:
    """For each row but the last: is it <= the next one on ``table``'s columns, in order?"""
    rising = np.ones(table.num_rows - 1, dtype=bool)
    for name in reversed(table.column_names):
        column = table.column(name)
        before, after = column.slice(0, table.num_rows - 1), column.slice(1)
        less = pc.less(before, after).to_numpy(zero_copy_only=False)
        equal = pc.equal(before, after).to_numpy(zero_copy_only=False)
        rising = less | (equal & rising)
    return rising


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
    """Score the holdout with any model, using its own features spec and encoding."""
    return predict(booster, feats.encode(holdout_built(features, frame, rows), encoding))


def holdout_built(features: Features, frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The holdout ``rows`` with ``features`` built on the whole (sorted) frame, so history
    features of the holdout rows see the same past as they did for the challenger."""
    return feats.build(frame, features).frame.iloc[rows].reset_index(drop=True)
