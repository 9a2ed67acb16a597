"""A binary model's training data prepared one block of entities at a time (pure).

On a Dask cluster the dataset is not gathered in one place: its partitions are shuffled so
that each block holds every row of its entities (a builder's history key, e.g. the
customer), and each block is sorted, built and encoded where it lies. The pieces below are
what a block computes (:func:`built_block`, :func:`block_summary`, :func:`block_split`)
and what the flow makes of the blocks' answers (:func:`windows_of`, :func:`encoding_of`,
:func:`merged`). A row's features are the ones the whole-frame path gives it (its
entity's history is whole and in order in its block); the holdout is put back in the
dataset's own order, so its rows, fingerprint and evidence do not depend on the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from schemas.specs import Features, ModelSpec
from tasks.core.train import features as feats
from tasks.core.train.booster import Matrix
from tasks.core.train.prepared import NotEnoughData, sort_events
from tasks.core.train.splits import Windows, compute_windows, split_masks

SPLITS = ("train", "validation", "test")
ORDER = "__row__"  # a holdout row's position in its block, while the holdout is merged


@dataclass(frozen=True)
class Summary:
    """What a block tells the flow before it is encoded: rows and positives per split, and
    the categorical values of its training rows."""

    rows: dict[str, int]
    positives: dict[str, int]
    categories: dict[str, list[str]]


@dataclass(frozen=True)
class Block:
    """One block's matrices; the holdout keeps its built columns (slices, keys)."""

    train: Matrix
    valid: Matrix
    test: Matrix
    test_frame: pd.DataFrame = field(repr=False)
    valid_keys: pd.DataFrame = field(repr=False)  # event time and key of each validation row


def built_block(
    frame: pd.DataFrame, spec: ModelSpec, time_col: str, keys: list[str]
) -> feats.Built:
    """A block's rows in the dataset's order (time, then key), with the spec's features built."""
    return feats.build(sort_events(frame, time_col, keys), spec.features)


def latest(built: feats.Built, time_col: str) -> pd.Timestamp | None:
    """The block's newest event time (None: an empty block)."""
    times = built.frame[time_col]
    return None if times.empty else pd.Timestamp(times.max())


def windows_of(latest_times: list[pd.Timestamp | None], spec: ModelSpec) -> Windows:
    """The windows on the newest event time of every block (the data's own clock).

    Raises:
        NotEnoughData: every block is empty.
    """
    times = [t for t in latest_times if t is not None]
    if not times:
        raise NotEnoughData("the dataset version has no rows")
    return compute_windows(max(times), spec.split)


def block_summary(built: feats.Built, windows: Windows, spec: ModelSpec, time_col: str) -> Summary:
    masks = split_masks(built.frame[time_col], windows)
    y = built.frame[spec.target].to_numpy(dtype=float)
    rows = {name: int(m.sum()) for name, m in zip(SPLITS, masks, strict=True)}
    positives = {name: int(y[m].sum()) for name, m in zip(SPLITS, masks, strict=True)}
    training = built.frame.loc[masks[0], built.categorical]
    categories = {c: training[c].dropna().astype(str).unique().tolist() for c in built.categorical}
    return Summary(rows, positives, categories)


def encoding_of(built: feats.Built, summaries: list[Summary]) -> feats.Encoding:
    """The vocabularies :func:`features.fit_encoding` learns from the same training rows."""
    vocab = {c: sorted({v for s in summaries for v in s.categories[c]}) for c in built.categorical}
    return feats.Encoding(list(built.numeric), vocab)


def totals(summaries: list[Summary]) -> tuple[dict[str, int], dict[str, int]]:
    """Rows and positives of each split over every block."""
    rows = {name: sum(s.rows[name] for s in summaries) for name in SPLITS}
    positives = {name: sum(s.positives[name] for s in summaries) for name in SPLITS}
    return rows, positives


def block_split(
    built: feats.Built,
    windows: Windows,
    spec: ModelSpec,
    order: tuple[str, list[str]],
    encoding: feats.Encoding,
) -> Block:
    """The block's train, validation and test matrices in its own row order (``order``: the
    event-time column and the key)."""
    time_col, keys = order
    masks = split_masks(built.frame[time_col], windows)
    y = built.frame[spec.target].to_numpy(dtype=float)
    x = feats.encode(built.frame, encoding)
    matrices = [Matrix(x[m], y[m]) for m in masks]
    test_frame = built.frame.loc[masks[2]].reset_index(drop=True)
    columns = list(dict.fromkeys([time_col, *keys]))
    valid_keys = built.frame.loc[masks[1], columns].reset_index(drop=True)
    return Block(matrices[0], matrices[1], matrices[2], test_frame, valid_keys)


def training_rows(block: Block, positions: np.ndarray) -> Matrix:
    """The block's training rows at ``positions`` (a sample for the linear baseline)."""
    return Matrix(block.train.x[positions], block.train.y[positions])


def merged(
    parts: list[tuple[Matrix, pd.DataFrame]], time_col: str, keys: list[str]
) -> tuple[Matrix, pd.DataFrame, np.ndarray]:
    """Blocks' rows of one split joined in the dataset's own order (time, then key), the
    order the whole-frame path gives them (each part's frame holds at least those columns),
    and that order as positions in the blocks' rows one after the other."""
    joined = pd.concat([f for _, f in parts], ignore_index=True)
    joined[ORDER] = np.arange(len(joined))
    frame = sort_events(joined, time_col, [*keys, ORDER])
    order = frame.pop(ORDER).to_numpy()
    x = np.vstack([m.x for m, _ in parts])
    y = np.concatenate([m.y for m, _ in parts])
    return Matrix(x[order], y[order]), frame, order


def shape_of(built: feats.Built) -> feats.Built:
    """The built columns' names without the rows (the flow's copy of a block's shape)."""
    return feats.Built(built.frame.iloc[:0], built.numeric, built.categorical, built.slices)


def holdout_of(
    built: feats.Built, features: Features, windows: Windows, time_col: str
) -> pd.DataFrame:
    """The block's holdout rows with another model's features built (the champion's, when
    its builder is not the challenger's), in the block's order."""
    frame = feats.build(built.frame, features).frame
    return frame.loc[split_masks(frame[time_col], windows)[2]].reset_index(drop=True)
