"""The recent window scores only the rows the statistics use, and counts every row."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from schemas.specs import load_model_spec
from tasks.core.gate.measure import Scorer
from tasks.core.monitor.recent import recent_binary
from tasks.core.sampling import sample_positions
from tasks.core.train import features as feats
from tasks.core.train.binary import prepare_binary
from tasks.core.train.booster import predict
from tasks.core.train.prepared import sort_events, train_model
from tasks.samples import generate_transactions

pytestmark = pytest.mark.unit
START, DAYS, CUT_DAY = dt.date(2026, 10, 1), 12, 9


def test_the_champion_scores_a_seeded_sample_and_the_counts_are_of_every_row() -> None:
    spec = load_model_spec("fraud")
    spec = spec.model_copy(
        update={
            "lightgbm": spec.lightgbm.model_copy(update={"num_boost_round": 10}),
            "monitoring": spec.monitoring.model_copy(
                update={"sample_rows": 1000, "max_matured_rows": 1500}
            ),
        }
    )
    frames = generate_transactions(DAYS, START, 3, rows_per_day=3000)
    frame = sort_events(
        pd.concat(frames.values(), ignore_index=True), "event_time", ["transaction_id"]
    )
    cut = pd.Timestamp(START + dt.timedelta(days=CUT_DAY), tz="UTC")
    prepared = prepare_binary(
        frame[frame["event_time"] < cut], spec, "event_time", ["transaction_id"]
    )
    champion = Scorer(train_model(spec, prepared).booster, prepared.encoding, spec.features)

    recent = recent_binary(frame, spec, "event_time", cut, champion)

    built = feats.build(frame, spec.features).frame
    times = built["event_time"]
    window = np.flatnonzero((times > cut).to_numpy())
    cutoff = times.max() - pd.Timedelta(days=spec.split.label_maturity_days)
    mature = window[(times.iloc[window] <= cutoff).to_numpy()]
    assert len(window) > 1000 and len(mature) > 1500  # both samples are real samples
    full = predict(champion.booster, feats.encode(built, champion.encoding))

    assert recent.rows == len(window)
    drift_rows = window[sample_positions(len(window), 1000, spec.seed)]
    np.testing.assert_allclose(recent.scores, full[drift_rows])
    assert all(len(v) == 1000 for v in recent.values.values())
    np.testing.assert_array_equal(recent.values["amount"], built["amount"].to_numpy()[drift_rows])
    matured_rows = mature[sample_positions(len(mature), 1500, spec.seed)]
    assert recent.matured.count == len(mature)
    np.testing.assert_allclose(recent.matured.scores, full[matured_rows])
    labels = built[spec.target].to_numpy(dtype=float)[matured_rows]
    np.testing.assert_array_equal(recent.matured.labels, labels)


def test_events_sort_as_pandas_stable_sort_does_ties_and_nulls_included() -> None:
    rng = np.random.default_rng(0)
    times = pd.Timestamp("2026-10-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 50, 400), "s")
    frame = pd.DataFrame({
        "event_time": times,
        "id": pd.Series([f"t{i % 97}" for i in rng.permutation(400)], dtype="str"),
        "value": np.arange(400),
    })  # fmt: skip
    frame.loc[[3, 70], "id"] = None
    expected = frame.sort_values(["event_time", "id"], kind="mergesort").reset_index(drop=True)
    pd.testing.assert_frame_equal(sort_events(frame, "event_time", ["id"]), expected)
    every = ["event_time", "id", "value"]  # no primary key: every column, event time included
    expected = frame.sort_values(every, kind="mergesort").reset_index(drop=True)
    pd.testing.assert_frame_equal(sort_events(frame, "event_time", every), expected)
    mixed = frame.assign(id=pd.Series([1, "a"] * 200, dtype=object))  # Arrow cannot hold it
    expected = mixed.sort_values(["event_time", "id"], kind="mergesort").reset_index(drop=True)
    pd.testing.assert_frame_equal(sort_events(mixed, "event_time", ["id"]), expected)
