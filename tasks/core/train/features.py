"""Feature building and encoding, shared by training and by scoring the champion.

A model spec names raw columns and optionally a *builder* that derives more
features. Builders only look backwards in time (each row's history features
use strictly earlier rows), so nothing from a row's future leaks into it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.errors import SpecError
from schemas.specs import Features


@dataclass(frozen=True)
class Built:
    """A frame with derived columns, and which of them are features or slice keys."""

    frame: pd.DataFrame
    numeric: list[str]
    categorical: list[str]
    slices: list[str]


Builder = Callable[[pd.DataFrame], Built]


def transaction_behaviour(df: pd.DataFrame) -> Built:
    """Card-transaction features: hour, amount against the customer's usual spend, foreign country.

    Only stationary features: a running count of past transactions would grow
    with the length of the history and shift between training and scoring.

    Expects rows sorted by event time. A customer's history features use only
    their earlier transactions (shifted expanding statistics).
    """
    out = df.copy()
    out["hour"] = out["event_time"].dt.hour.astype(float)
    by_customer = out.groupby("customer_id", sort=False)
    prior_count = by_customer.cumcount().astype(float)
    prior_sum = by_customer["amount"].cumsum() - out["amount"]
    prior_mean = (prior_sum / prior_count).where((prior_count > 0) & (prior_sum > 0))
    out["amount_vs_usual"] = (out["amount"] / prior_mean).astype(float)
    home = by_customer["country"].transform("first")
    out["foreign_country"] = (out["country"] != home).astype(float)
    out["age_band"] = age_bands(out["customer_age"])
    numeric = ["hour", "amount_vs_usual", "foreign_country"]
    return Built(out, numeric, [], ["age_band"])


def age_bands(age: pd.Series) -> pd.Series:
    """Age bands used for slicing and fairness checks."""
    edges = [0, 25, 40, 60, 200]
    labels = ["18-25", "26-40", "41-60", "61+"]
    bands = pd.cut(age.astype(float), bins=edges, labels=labels, right=True)
    codes = np.asarray(bands.cat.codes)  # -1: outside every band (missing, as astype(str))
    text = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(labels))
    strings = pd.array(text.cast(pa.string()), dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    return pd.Series(strings, index=age.index)  # strings from 4 labels, not one per row


BUILDERS: dict[str, Builder] = {"transaction_behaviour": transaction_behaviour}

# The column each builder's history features read a whole entity's rows by: on a Dask
# cluster, rows are shuffled into blocks by it, so that every entity's past is in its block.
HISTORY_KEYS: dict[str, str] = {"transaction_behaviour": "customer_id"}


def build(df: pd.DataFrame, features: Features) -> Built:
    """Apply the spec's builder (if any) and return every feature column name."""
    if features.builder is None:
        built = Built(df, [], [], [])
    elif features.builder in BUILDERS:
        built = BUILDERS[features.builder](df)
    else:
        raise SpecError(
            f"unknown feature builder {features.builder!r} (known: {', '.join(sorted(BUILDERS))})"
        )
    missing = [c for c in [*features.numeric, *features.categorical] if c not in built.frame]
    if missing:
        raise SpecError(f"feature column(s) not in the data: {missing}")
    return Built(
        built.frame,
        [*features.numeric, *built.numeric],
        [*features.categorical, *built.categorical],
        built.slices,
    )


@dataclass(frozen=True)
class Encoding:
    """Column order and category vocabularies: stored in the model card."""

    numeric: list[str]
    categorical: dict[str, list[str]]

    @property
    def names(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @property
    def categorical_indices(self) -> list[int]:
        return list(range(len(self.numeric), len(self.names)))

    def to_dict(self) -> dict[str, Any]:
        """JSON form; categoricals as an ordered list (JSON objects may be key-sorted)."""
        cats = [{"column": c, "values": v} for c, v in self.categorical.items()]
        return {"numeric": list(self.numeric), "categorical": cats}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Encoding:
        cats = {str(c["column"]): [str(v) for v in c["values"]] for c in data["categorical"]}
        return cls([str(c) for c in data["numeric"]], cats)


def fit_encoding(built: Built, rows: np.ndarray) -> Encoding:
    """Learn category vocabularies from the training rows only (sorted: deterministic)."""
    frame = built.frame.loc[rows, built.categorical]  # those columns alone, not a full copy
    vocab = {c: sorted(frame[c].dropna().astype(str).unique().tolist()) for c in built.categorical}
    return Encoding(list(built.numeric), vocab)


def encode(frame: pd.DataFrame, enc: Encoding) -> np.ndarray:
    """Numeric matrix in the encoding's column order; unseen categories become NaN."""
    cols = [frame[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan) for c in enc.numeric]
    for name, vocab in enc.categorical.items():  # a value's position in the vocabulary, in Arrow
        values = pa.array(frame[name].astype("string"), type=pa.string())
        codes = pc.index_in(values, value_set=pa.array(vocab, pa.string()))
        cols.append(codes.to_numpy(zero_copy_only=False).astype(float))
    return np.column_stack(cols) if cols else np.empty((len(frame), 0))
