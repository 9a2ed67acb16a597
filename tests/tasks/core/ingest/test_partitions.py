"""Partitions read back as one frame: the rows and types pandas would give, in order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.core.ingest.manifests import frame_of_partitions, from_parquet, to_parquet


def _pandas_join(parts: list[bytes]) -> pd.DataFrame:
    return pd.concat([from_parquet(p) for p in parts], ignore_index=True)


def test_partitions_join_into_the_frame_pandas_would_build() -> None:
    frames = [
        pd.DataFrame({
            "id": pd.array([f"t{day}-{i}" for i in range(5)], dtype="str"),
            "amount": pd.array([1.5, None, 3.0, 4.25, 5.0], dtype="Float64"),
            "age": pd.array([20, 30, None, 40, 50], dtype="Int64"),
            "at": pd.date_range(f"2026-01-0{day}", periods=5, freq="h", tz="UTC"),
        })
        for day in (1, 2, 3)
    ]  # fmt: skip
    parts = [to_parquet(f) for f in frames]
    joined = frame_of_partitions(parts)
    pd.testing.assert_frame_equal(joined, _pandas_join(parts))
    assert list(joined["id"][:2]) == ["t1-0", "t1-1"] and joined["id"].iloc[-1] == "t3-4"
    assert isinstance(joined.index, pd.RangeIndex) and len(joined) == 15


def test_partitions_of_differing_types_still_join() -> None:
    """An all-null column (Arrow's null type) beside strings, integers beside floats."""
    first = pd.DataFrame({"note": [None, None], "n": np.array([1, 2], dtype="int64")})
    second = pd.DataFrame({"note": ["a", "b"], "n": np.array([0.5, 1.5])})
    joined = frame_of_partitions([to_parquet(first), to_parquet(second)])
    assert list(joined["note"].iloc[2:]) == ["a", "b"] and joined["note"].iloc[:2].isna().all()
    assert list(joined["n"]) == [1.0, 2.0, 0.5, 1.5]


def test_no_partition_is_an_empty_frame() -> None:
    assert frame_of_partitions([]).empty
