"""A binary model prepared a block of customers at a time (tasks/core/train/blocks.py): the
pieces the Dask workers run, put together without a cluster, give what one machine gives."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from schemas.specs import ModelSpec, load_model_spec
from tasks.core.train import blocks
from tasks.core.train.binary import prepare_binary, require_windows
from tasks.core.train.prepared import NotEnoughData, sort_events
from tasks.samples import generate_transactions

pytestmark = pytest.mark.unit
KEYS = ["transaction_id"]


def _frame() -> pd.DataFrame:
    days = generate_transactions(6, dt.date(2026, 3, 1), 5, rows_per_day=1500)
    frame = pd.concat(days.values(), ignore_index=True)
    return sort_events(frame, "event_time", KEYS)


def _spec() -> ModelSpec:
    spec = load_model_spec("fraud")
    split = spec.split.model_copy(
        update={"training_window_days": 3, "validation_days": 1, "test_days": 1,
                "label_maturity_days": 0.5, "min_rows": 200}
    )  # fmt: skip
    return spec.model_copy(update={"split": split})


def test_blocks_of_whole_customers_give_the_whole_frame_s_holdout_and_training_rows() -> None:
    frame, spec = _frame(), _spec()
    here = prepare_binary(frame, spec, "event_time", KEYS)
    block_of = pd.util.hash_pandas_object(frame["customer_id"], index=False) % 3
    rng = np.random.default_rng(0)
    parts = [frame[(block_of == i).to_numpy()].sample(frac=1.0, random_state=rng) for i in range(3)]

    built = [blocks.built_block(p, spec, "event_time", KEYS) for p in parts]  # any row order
    windows = blocks.windows_of([blocks.latest(b, "event_time") for b in built], spec)
    summaries = [blocks.block_summary(b, windows, spec, "event_time") for b in built]
    require_windows(*blocks.totals(summaries), spec.split.min_rows)
    encoding = blocks.encoding_of(blocks.shape_of(built[0]), summaries)
    split = [blocks.block_split(b, windows, spec, ("event_time", KEYS), encoding) for b in built]
    test, test_frame, order = blocks.merged(
        [(s.test, s.test_frame) for s in split], "event_time", KEYS
    )
    valid, _, _ = blocks.merged([(s.valid, s.valid_keys) for s in split], "event_time", KEYS)

    assert windows == here.windows and encoding == here.encoding
    assert blocks.totals(summaries)[0] == here.rows
    np.testing.assert_array_equal(test.x, here.test.x)
    np.testing.assert_array_equal(valid.x, here.valid.x)
    np.testing.assert_array_equal(valid.y, here.valid.y)
    pd.testing.assert_frame_equal(test_frame, here.test_frame)
    assert sorted(order) == list(range(len(order)))  # a permutation of the blocks' rows
    train_x = np.vstack([s.train.x for s in split])
    assert sorted(map(tuple, np.nan_to_num(train_x, nan=-1.0))) == sorted(
        map(tuple, np.nan_to_num(here.train.x, nan=-1.0))
    )


def test_a_block_without_its_customers_whole_history_would_differ() -> None:
    """The check above is not vacuous: blocks cut by row rather than by customer change the
    history features (each customer's usual spend)."""
    frame, spec = _frame(), _spec()
    here = prepare_binary(frame, spec, "event_time", KEYS)
    halves = [frame.iloc[::2], frame.iloc[1::2]]
    built = [blocks.built_block(p, spec, "event_time", KEYS) for p in halves]
    windows = blocks.windows_of([blocks.latest(b, "event_time") for b in built], spec)
    encoding = blocks.encoding_of(
        blocks.shape_of(built[0]),
        [blocks.block_summary(b, windows, spec, "event_time") for b in built],
    )
    split = [blocks.block_split(b, windows, spec, ("event_time", KEYS), encoding) for b in built]
    test, _, _ = blocks.merged([(s.test, s.test_frame) for s in split], "event_time", KEYS)
    assert not np.array_equal(np.nan_to_num(test.x), np.nan_to_num(here.test.x))


def test_empty_blocks_are_not_enough_data() -> None:
    with pytest.raises(NotEnoughData, match="no rows"):
        blocks.windows_of([None, None], _spec())


def test_an_empty_block_changes_nothing() -> None:
    """More workers than the data fills (a wide cluster, few customers): a block may be
    empty; it reports nothing and the others give the whole frame's holdout."""
    frame, spec = _frame(), _spec()
    here = prepare_binary(frame, spec, "event_time", KEYS)
    parts = [frame, frame.iloc[:0]]
    built = [blocks.built_block(p, spec, "event_time", KEYS) for p in parts]
    latest = [blocks.latest(b, "event_time") for b in built]
    assert latest[1] is None
    windows = blocks.windows_of(latest, spec)
    summaries = [blocks.block_summary(b, windows, spec, "event_time") for b in built]
    assert summaries[1].rows == {"train": 0, "validation": 0, "test": 0}
    encoding = blocks.encoding_of(blocks.shape_of(built[0]), summaries)
    split = [blocks.block_split(b, windows, spec, ("event_time", KEYS), encoding) for b in built]
    assert split[1].train.x.shape == (0, len(encoding.names))
    test, test_frame, _ = blocks.merged([(s.test, s.test_frame) for s in split], "event_time", KEYS)
    np.testing.assert_array_equal(test.x, here.test.x)
    pd.testing.assert_frame_equal(test_frame, here.test_frame)
