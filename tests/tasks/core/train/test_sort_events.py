"""Event order (time, then the primary key): the shortcut through the time column alone
gives exactly the order of Arrow's stable sort on every column, or is not taken."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

pytestmark = pytest.mark.unit


def _arrow_order(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    table = pa.Table.from_pandas(frame[columns], preserve_index=False)
    order: np.ndarray = pc.sort_indices(
        table, sort_keys=[(c, "ascending") for c in columns]
    ).to_numpy()
    return order


def _frame(seed: int, rows: int, shuffled: bool | str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.integers(0, rows // 3, rows))  # many ties
    frame = pd.DataFrame({
        "event_time": pd.to_datetime(seconds, unit="s", utc=True),
        "user": [f"u{v}" for v in rng.integers(0, 50, rows)],
        "item": rng.integers(0, 9, rows),
        "n": np.arange(rows),
    })  # fmt: skip
    if shuffled is True:
        return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    within = frame.sort_values(["event_time", "user", "item"], kind="mergesort")
    within = within.reset_index(drop=True)  # as files are written: in event order
    if shuffled == "a few ties":  # in time order, a few tied rows out of key order
        ties = np.flatnonzero(within["event_time"].diff().eq(pd.Timedelta(0)).to_numpy())
        for at in rng.choice(ties, 5, replace=False):
            within.loc[[at - 1, at]] = within.loc[[at, at - 1]].to_numpy()
    return within


@pytest.mark.parametrize("shuffled", [False, True, "a few ties"])
@pytest.mark.parametrize("keys", [["user"], ["user", "item"], ["event_time"], []])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_order_is_arrows_stable_sort_on_every_column(
    seed: int, keys: list[str], shuffled: bool | str
) -> None:
    from tasks.core.train.prepared import sort_events

    frame = _frame(seed, 3000, shuffled)
    columns = list(dict.fromkeys(["event_time", *keys]))
    expected = frame.take(_arrow_order(frame, columns)).reset_index(drop=True)
    pd.testing.assert_frame_equal(sort_events(frame, "event_time", keys), expected)


def test_files_in_event_order_are_ordered_by_time_and_their_few_ties_out_of_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tasks.core.train import prepared
    from tasks.core.train.prepared import _by_time_alone

    frame = _frame(3, 2000, shuffled=False)
    cut = int(np.flatnonzero(frame["event_time"].diff().gt(pd.Timedelta(0)))[500])
    days = pd.concat([frame.iloc[cut:], frame.iloc[:cut]], ignore_index=True)  # two files
    table = pa.Table.from_pandas(days[["event_time", "user", "item"]], preserve_index=False)
    order = _by_time_alone(table, ["event_time", "user", "item"])
    assert order is not None
    assert list(order) == list(_arrow_order(days, ["event_time", "user", "item"]))

    swapped = days.copy()
    tie = int(np.flatnonzero(swapped["event_time"].diff().eq(pd.Timedelta(0)))[0])
    swapped.loc[[tie - 1, tie], "user"] = ["u99", "u00"]  # a tie out of key order
    table = pa.Table.from_pandas(swapped[["event_time", "user"]], preserve_index=False)
    fixed = _by_time_alone(table, ["event_time", "user"])  # that group alone sorted
    assert fixed is not None
    assert list(fixed) == list(_arrow_order(swapped, ["event_time", "user"]))
    monkeypatch.setattr(prepared, "MAX_TIES_OUT_OF_ORDER", 0)
    assert _by_time_alone(table, ["event_time", "user"]) is None  # then: one sort of all
    with_null = pa.table({"t": pa.array([2, None, 1], pa.int64()), "k": ["a", "b", "c"]})
    assert _by_time_alone(with_null, ["t", "k"]) is None
    floats = pa.table({"t": [2.0, 1.0], "k": ["a", "b"]})
    assert _by_time_alone(floats, ["t", "k"]) is None
