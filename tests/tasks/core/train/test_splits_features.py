"""Time windows on the data's clock, leakage-free features and encodings."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from schemas.errors import SpecError
from schemas.specs import Features, Split
from tasks.core.train.features import (
    Built,
    Encoding,
    age_bands,
    build,
    encode,
    fit_encoding,
    transaction_behaviour,
)
from tasks.core.train.splits import Windows, compute_windows, split_masks
from tasks.samples import generate_transactions

pytestmark = pytest.mark.unit

DAY = pd.Timedelta(days=1)
SPLIT = Split(
    training_window_days=10, validation_days=2, test_days=3, label_maturity_days=1, min_rows=1
)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# -- windows ---------------------------------------------------------------------------


def test_windows_end_at_as_of_minus_label_maturity() -> None:
    w = compute_windows(ts("2019-06-30 12:00"), SPLIT)
    assert w.as_of == ts("2019-06-30 12:00")
    assert w.test_end == ts("2019-06-29 12:00")
    assert w.test_start == ts("2019-06-26 12:00")
    assert w.val_start == ts("2019-06-24 12:00")
    assert w.train_start == ts("2019-06-14 12:00")


@pytest.mark.parametrize(
    ("split", "span"),
    [
        (Split(), 60 + 2 + 2 + 1),
        (Split(training_window_days=30, validation_days=1, test_days=1, label_maturity_days=0), 32),
        (Split(training_window_days=1.5, validation_days=0.25, test_days=0.25,
               label_maturity_days=0.5), 2.5),
    ],
    ids=["defaults", "no_maturity", "fractional_days"],
)  # fmt: skip
def test_windows_are_contiguous_and_span_the_configured_days(split: Split, span: float) -> None:
    as_of = ts("2024-02-29 08:30")
    w = compute_windows(as_of, split)
    assert w.train_start < w.val_start < w.test_start < w.test_end <= w.as_of
    assert as_of - w.train_start == span * DAY
    assert w.val_start - w.train_start == split.training_window_days * DAY
    assert w.test_start - w.val_start == split.validation_days * DAY
    assert w.test_end - w.test_start == split.test_days * DAY
    assert as_of - w.test_end == split.label_maturity_days * DAY


def _days_of_events(start: str, days: int, per_day: int = 24) -> pd.Series:
    stamps = pd.date_range(ts(start), periods=days * per_day, freq=pd.Timedelta(days=1) / per_day)
    return pd.Series(stamps)


def test_same_data_gives_the_same_windows_whatever_the_wall_clock() -> None:
    """A backfill of old data is placed on its own clock: windows in 2015, rows in every split."""
    times = _days_of_events("2015-01-01", 20)
    first = compute_windows(times.max(), SPLIT)
    again = compute_windows(times.max(), SPLIT)
    assert first == again
    assert first.to_dict() == again.to_dict()
    assert first.test_end.year == 2015
    assert first.test_end == times.max() - DAY
    train, val, test = split_masks(times, first)
    assert train.sum() == 10 * 24
    assert val.sum() == 2 * 24
    assert test.sum() == 3 * 24 + 1  # test window includes its end (see below)


def test_windows_to_dict_is_iso() -> None:
    w = compute_windows(ts("2024-03-10"), SPLIT)
    d = w.to_dict()
    assert set(d) == {"as_of", "train_start", "val_start", "test_start", "test_end"}
    assert pd.Timestamp(d["test_end"]) == w.test_end
    assert d["as_of"] == "2024-03-10T00:00:00+00:00"


def test_split_boundaries() -> None:
    w = Windows(
        as_of=ts("2024-01-11"),
        train_start=ts("2024-01-01"),
        val_start=ts("2024-01-05"),
        test_start=ts("2024-01-08"),
        test_end=ts("2024-01-10"),
    )
    eps = pd.Timedelta(microseconds=1)
    cases = {
        # time: (train, validation, test)
        w.train_start - eps: (False, False, False),
        w.train_start: (True, False, False),
        w.val_start - eps: (True, False, False),
        w.val_start: (False, True, False),
        w.test_start - eps: (False, True, False),
        w.test_start: (False, False, True),
        w.test_end - eps: (False, False, True),
        # rows newer than as_of - label maturity are excluded: test_end itself is not newer
        w.test_end: (False, False, True),
        w.test_end + eps: (False, False, False),
        w.as_of: (False, False, False),
    }
    times = pd.Series(list(cases))
    train, val, test = split_masks(times, w)
    got = list(zip(train.tolist(), val.tolist(), test.tolist(), strict=True))
    assert dict(zip(cases, got, strict=True)) == cases


@pytest.mark.parametrize("seed", range(3))
def test_masks_are_disjoint_and_cover_the_window(seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = ts("2024-01-01")
    times = pd.Series(base + pd.to_timedelta(rng.uniform(0, 30, 2000), unit="D")).dt.floor("h")
    w = compute_windows(times.max(), SPLIT)
    train, val, test = split_masks(times, w)
    assert train.dtype == bool
    assert not (train & val).any()
    assert not (train & test).any()
    assert not (val & test).any()
    inside = ((times >= w.train_start) & (times <= w.test_end)).to_numpy()
    assert np.array_equal(train | val | test, inside)
    assert times[test].max() <= w.test_end
    assert times[train].max() < w.val_start


# -- transaction_behaviour -------------------------------------------------------------


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    days = generate_transactions(4, dt.date(2024, 3, 1), 7, rows_per_day=400)
    frame = pd.concat(days.values(), ignore_index=True)
    return frame.sort_values(["event_time", "transaction_id"], kind="mergesort").reset_index(
        drop=True
    )


HISTORY = ["hour", "amount_vs_usual", "foreign_country", "age_band"]


def _future_row_of_a_repeat_customer(df: pd.DataFrame, position: str) -> int:
    counts = df.groupby("customer_id").cumcount()
    repeat = np.flatnonzero(counts.to_numpy() >= 2)
    return int(repeat[-1] if position == "last" else repeat[len(repeat) // 2])


@pytest.mark.parametrize("position", ["last", "middle"])
@pytest.mark.parametrize(
    ("column", "value"), [("amount", 987_654.0), ("amount", 0.01), ("country", "NG")]
)
def test_changing_a_future_row_never_changes_earlier_features(
    transactions: pd.DataFrame, position: str, column: str, value: object
) -> None:
    """LEAKAGE: a row's features depend only on rows strictly before it."""
    row = _future_row_of_a_repeat_customer(transactions, position)
    changed = transactions.copy()
    changed.loc[row, column] = value
    before = transaction_behaviour(transactions).frame[HISTORY]
    after = transaction_behaviour(changed).frame[HISTORY]
    pd.testing.assert_frame_equal(before.iloc[:row], after.iloc[:row])
    customer = transactions.loc[row, "customer_id"]
    if column == "amount":
        # the changed row's own ratio moves, so the test would notice a broken edit
        assert before.loc[row, "amount_vs_usual"] != after.loc[row, "amount_vs_usual"]
    later_same = transactions.index[(transactions.index > row)
                                    & (transactions["customer_id"] == customer)]  # fmt: skip
    if column == "amount" and len(later_same):
        assert not before.loc[later_same, "amount_vs_usual"].equals(
            after.loc[later_same, "amount_vs_usual"]
        )


def test_amount_vs_usual_uses_only_earlier_rows_of_the_same_customer() -> None:
    df = pd.DataFrame(
        {
            "event_time": [ts("2024-01-01 01:00"), ts("2024-01-01 02:00"), ts("2024-01-01 03:00"),
                           ts("2024-01-01 04:00"), ts("2024-01-01 05:00")],
            "customer_id": ["a", "b", "a", "a", "b"],
            "amount": [10.0, 100.0, 30.0, 60.0, 50.0],
            "country": ["US", "GB", "US", "FR", "GB"],
            "customer_age": [22, 70, 22, 22, 70],
        }
    )  # fmt: skip
    out = transaction_behaviour(df)
    frame = out.frame
    ratio = frame["amount_vs_usual"].tolist()
    assert math.isnan(ratio[0])  # first transaction of a: no usual spend yet
    assert math.isnan(ratio[1])  # first transaction of b
    assert ratio[2] == pytest.approx(30 / 10)
    assert ratio[3] == pytest.approx(60 / 20)  # mean of 10 and 30
    assert ratio[4] == pytest.approx(50 / 100)
    assert frame["hour"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert frame["foreign_country"].tolist() == [0.0, 0.0, 0.0, 1.0, 0.0]
    assert frame["age_band"].tolist() == ["18-25", "61+", "18-25", "18-25", "61+"]
    assert out.numeric == ["hour", "amount_vs_usual", "foreign_country"]
    assert out.slices == ["age_band"]
    assert "amount_vs_usual" not in df.columns  # the input frame is not modified


def test_first_transaction_of_each_customer_has_nan_amount_vs_usual(
    transactions: pd.DataFrame,
) -> None:
    frame = transaction_behaviour(transactions).frame
    first = ~transactions["customer_id"].duplicated()
    assert frame.loc[first, "amount_vs_usual"].isna().all()
    assert frame.loc[~first, "amount_vs_usual"].notna().all()


def test_amount_vs_usual_is_never_infinite_for_valid_amounts() -> None:
    df = pd.DataFrame(
        {
            "event_time": [ts("2024-01-01 01:00"), ts("2024-01-01 02:00")],
            "customer_id": ["a", "a"],
            "amount": [0.0, 25.0],
            "country": ["US", "US"],
            "customer_age": [30, 30],
        }
    )
    ratio = transaction_behaviour(df).frame["amount_vs_usual"]
    assert not np.isinf(ratio).any()


@pytest.mark.parametrize(
    ("age", "band"),
    [(18, "18-25"), (25, "18-25"), (26, "26-40"), (40, "26-40"), (41, "41-60"), (60, "41-60"),
     (61, "61+"), (120, "61+")],
)  # fmt: skip
def test_age_bands_edges(age: int, band: str) -> None:
    assert age_bands(pd.Series([age])).tolist() == [band]


def test_build_merges_spec_columns_with_builder_features(transactions: pd.DataFrame) -> None:
    spec = Features(
        numeric=["amount", "customer_age"],
        categorical=["channel"],
        builder="transaction_behaviour",
    )
    built = build(transactions, spec)
    assert built.numeric == ["amount", "customer_age", "hour", "amount_vs_usual", "foreign_country"]
    assert built.categorical == ["channel"]
    assert built.slices == ["age_band"]


def test_build_without_builder_keeps_the_frame(transactions: pd.DataFrame) -> None:
    built = build(transactions, Features(numeric=["amount"], categorical=["country"]))
    assert built.frame is transactions
    assert (built.numeric, built.categorical, built.slices) == (["amount"], ["country"], [])


def test_unknown_builder_is_a_spec_error(transactions: pd.DataFrame) -> None:
    with pytest.raises(
        SpecError, match=r"unknown feature builder 'velocity'.*transaction_behaviour"
    ):
        build(transactions, Features(numeric=["amount"], builder="velocity"))


@pytest.mark.parametrize(
    "features",
    [
        Features(numeric=["amount", "balance"]),
        Features(categorical=["device"], builder="transaction_behaviour"),
    ],
    ids=["numeric", "categorical_with_builder"],
)
def test_missing_feature_column_is_a_spec_error(
    transactions: pd.DataFrame, features: Features
) -> None:
    missing = (features.numeric + features.categorical)[-1]
    with pytest.raises(SpecError, match=rf"not in the data.*{missing}"):
        build(transactions, features)


# -- encoding --------------------------------------------------------------------------


def _built() -> Built:
    frame = pd.DataFrame(
        {
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "channel": ["pos", "online", "pos", None, "atm", "kiosk"],
            "country": ["US", "GB", "US", "FR", "DE", "US"],
        }
    )
    return Built(frame, ["amount"], ["country", "channel"], [])


def test_vocabularies_come_from_training_rows_only() -> None:
    built = _built()
    train = np.array([True, True, True, True, False, False])
    enc = fit_encoding(built, train)
    assert enc.categorical == {"country": ["FR", "GB", "US"], "channel": ["online", "pos"]}
    assert enc.names == ["amount", "country", "channel"]
    assert enc.categorical_indices == [1, 2]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_unseen_and_missing_categories_encode_as_nan() -> None:
    built = _built()
    enc = fit_encoding(built, np.array([True, True, True, True, False, False]))
    x = encode(built.frame, enc)
    assert x.shape == (6, 3)
    assert x[:, 0].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert x[:4, 1].tolist() == [2.0, 1.0, 2.0, 0.0]  # US, GB, US, FR
    assert math.isnan(x[4, 1])  # DE never seen in training
    assert x[[0, 1, 2], 2].tolist() == [1.0, 0.0, 1.0]  # pos, online, pos
    assert np.isnan(x[[3, 4, 5], 2]).all()  # missing, atm and kiosk unseen


@pytest.mark.filterwarnings("error::DeprecationWarning")
def test_encoding_unseen_categories_relies_on_no_deprecated_pandas_behaviour() -> None:
    built = _built()
    enc = fit_encoding(built, np.array([True, True, True, True, False, False]))
    x = encode(built.frame, enc)
    assert np.isnan(x[5, 2])


def test_encode_follows_the_encoding_order_not_the_frame_order() -> None:
    built = _built()
    enc = fit_encoding(built, np.ones(6, dtype=bool))
    shuffled = built.frame[["country", "channel", "amount"]]
    assert np.array_equal(encode(shuffled, enc), encode(built.frame, enc), equal_nan=True)


def test_encoding_round_trip_preserves_categorical_order_through_sorted_json() -> None:
    enc = Encoding(
        numeric=["z_amount", "a_hour"],
        categorical={"z_channel": ["pos", "atm"], "m_country": ["US"], "a_band": ["61+", "18-25"]},
    )
    text = json.dumps(enc.to_dict(), sort_keys=True)
    back = Encoding.from_dict(json.loads(text))
    assert back == enc
    assert list(back.categorical) == ["z_channel", "m_country", "a_band"]
    assert back.names == ["z_amount", "a_hour", "z_channel", "m_country", "a_band"]
    assert back.categorical_indices == [2, 3, 4]
    frame = pd.DataFrame(
        {
            "z_amount": [1.0],
            "a_hour": [2.0],
            "z_channel": ["atm"],
            "m_country": ["US"],
            "a_band": ["18-25"],
        }
    )
    assert encode(frame, back).tolist() == encode(frame, enc).tolist() == [[1.0, 2.0, 1, 0, 1]]
