"""Synthetic sample data: contract shape, determinism, realism and corrupted files."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score

from tasks.samples import (
    CATEGORIES,
    CHANNELS,
    CORRUPTION_KINDS,
    GENRES,
    INTERACTION_CORRUPTION_KINDS,
    OCCUPATIONS,
    RISKY_CATEGORIES,
    TRANSACTION_COLUMNS,
    build_recs_latent,
    corrupt_interactions,
    corrupt_transactions,
    generate_interactions,
    generate_items,
    generate_transactions,
    generate_users,
    to_csv_bytes,
)

pytestmark = pytest.mark.unit

START = dt.date(2024, 3, 1)
SEED = 7
TX_DTYPES = {
    "transaction_id": "str",
    "event_time": "datetime64[ns, UTC]",
    "customer_id": "str",
    "merchant_id": "str",
    "merchant_category": "str",
    "amount": "float64",
    "channel": "str",
    "country": "str",
    "customer_age": "int64",
    "is_fraud": "int64",
}


@pytest.fixture(scope="module")
def week() -> list[pd.DataFrame]:
    return list(generate_transactions(7, START, SEED).values())


@pytest.fixture(scope="module")
def catalog() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_users(SEED), generate_items(SEED)


@pytest.fixture(scope="module")
def plays(catalog: tuple[pd.DataFrame, pd.DataFrame]) -> list[pd.DataFrame]:
    users, items = catalog
    return list(generate_interactions(7, START, SEED, users, items).values())


def _dtypes(df: pd.DataFrame) -> dict[str, str]:
    return {col: str(dtype) for col, dtype in df.dtypes.items()}


def _read(data: bytes, encoding: str = "utf-8") -> pd.DataFrame:
    return pd.read_csv(io.StringIO(data.decode(encoding)), dtype=str, keep_default_na=False)


# transactions -----------------------------------------------------------------------------


def test_transactions_have_exactly_the_contract_columns_and_dtypes(week):
    assert len(week) == 7
    for df in week:
        assert tuple(df.columns) == TRANSACTION_COLUMNS
        assert _dtypes(df) == TX_DTYPES
        assert len(df) == 4000


def test_transaction_values_are_within_the_contract(week):
    df = pd.concat(week, ignore_index=True)
    assert df["transaction_id"].is_unique
    assert df["transaction_id"].str.match(r"^tx-\d{4}-\d{2}-\d{2}-\d{5}$").all()
    assert (df["amount"] > 0).all()
    assert (df["amount"] <= 1_000_000).all()
    assert np.allclose(df["amount"], df["amount"].round(2))
    assert df["customer_age"].between(18, 95).all()
    assert df["country"].str.match(r"^[A-Z]{2}$").all()
    assert set(df["channel"]) == set(CHANNELS)
    assert set(df["merchant_category"]) == set(CATEGORIES)
    assert set(df["is_fraud"]) == {0, 1}
    assert df["customer_id"].nunique() <= 2000
    assert df["merchant_id"].nunique() <= 300
    assert (df.loc[df["channel"] == "atm", "merchant_category"] == "cash").all()
    for k, day_df in enumerate(week):
        assert (day_df["event_time"].dt.date == START + dt.timedelta(days=k)).all()
        assert day_df["event_time"].is_monotonic_increasing


def test_customers_keep_their_age_and_mostly_their_home_country(week):
    df = pd.concat(week, ignore_index=True)
    assert (df.groupby("customer_id")["customer_age"].nunique() == 1).all()
    per_country = df.groupby(["customer_id", "country"]).size()
    by_customer = per_country.groupby(level="customer_id")
    home_share = by_customer.max() / by_customer.sum()
    assert home_share.median() == 1.0
    assert home_share.mean() > 0.9
    assert (df["country"] == df["country"].mode().iloc[0]).mean() > 0.5


def test_a_day_is_the_same_however_many_days_are_generated():
    short = generate_transactions(3, START, SEED, rows_per_day=500)
    long = generate_transactions(5, START, SEED, rows_per_day=500)
    assert list(short) == [START + dt.timedelta(days=k) for k in range(3)]
    for day, df in short.items():
        pd.testing.assert_frame_equal(df, long[day])
    assert not long[START + dt.timedelta(days=3)]["customer_id"].equals(short[START]["customer_id"])


def test_different_seeds_give_different_transactions():
    a = generate_transactions(1, START, 1, rows_per_day=500)[START]
    b = generate_transactions(1, START, 2, rows_per_day=500)[START]
    assert not a["amount"].equals(b["amount"])
    assert not a["customer_id"].equals(b["customer_id"])


def test_fraud_rate_is_near_one_percent(week):
    rate = pd.concat(week)["is_fraud"].mean()
    assert 0.005 <= rate <= 0.02


def _fraud_features(df: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    typical = history.groupby("customer_id")["amount"].median()
    by_country = history.groupby(["customer_id", "country"]).size().sort_values()
    home = by_country.reset_index().drop_duplicates("customer_id", keep="last")
    home_country = home.set_index("customer_id")["country"]
    fallback = history["amount"].median()
    return pd.DataFrame(
        {
            "hour": df["event_time"].dt.hour,
            "amount": df["amount"],
            "ratio": df["amount"] / df["customer_id"].map(typical).fillna(fallback),
            "foreign": (df["country"] != df["customer_id"].map(home_country)).astype(int),
            "age": df["customer_age"],
            "category": pd.Categorical(df["merchant_category"], categories=CATEGORIES),
            "channel": pd.Categorical(df["channel"], categories=CHANNELS),
        }
    )


def test_fraud_signal_is_learnable_but_not_trivial(week):
    train, test = pd.concat(week[:6], ignore_index=True), week[6]
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    model.fit(_fraud_features(train, train), train["is_fraud"])
    scores = model.predict_proba(_fraud_features(test, train))[:, 1]
    precision = average_precision_score(test["is_fraud"], scores)
    assert precision > 3 * test["is_fraud"].mean()
    assert precision < 0.9  # overlap and label noise: a model cannot be perfect


@pytest.mark.parametrize(
    "tell",
    [
        pytest.param(lambda df: df["event_time"].dt.hour < 6, id="night"),
        pytest.param(lambda df: df["merchant_category"].isin(RISKY_CATEGORIES), id="risky"),
        pytest.param(lambda df: df["channel"] == "online", id="online"),
        pytest.param(lambda df: ~df["customer_age"].between(25, 74), id="young-or-old"),
        pytest.param(lambda df: _fraud_features(df, df)["foreign"] == 1, id="abroad"),
        pytest.param(lambda df: _fraud_features(df, df)["ratio"] > 3, id="far-above-typical"),
    ],
)
def test_fraud_is_more_likely_with_each_tell(week, tell: Callable[[pd.DataFrame], pd.Series]):
    df = pd.concat(week, ignore_index=True)
    mask = tell(df)
    assert df.loc[mask, "is_fraud"].mean() > 1.5 * df.loc[~mask, "is_fraud"].mean()


def _psi(reference: pd.Series, current: pd.Series, edges: np.ndarray) -> float:
    ref = np.histogram(reference, edges)[0] / len(reference) + 1e-6
    cur = np.histogram(current, edges)[0] / len(current) + 1e-6
    return float(((cur - ref) * np.log(cur / ref)).sum())


def test_drift_moves_amounts_channels_and_fraud_from_the_drift_day():
    plain = generate_transactions(8, START, SEED, rows_per_day=2000)
    drifted = generate_transactions(8, START, SEED, rows_per_day=2000, drift_from_day=4)
    days = list(plain)
    for day in days[:4]:
        pd.testing.assert_frame_equal(plain[day], drifted[day])
    before = pd.concat([plain[d] for d in days[4:]])
    after = pd.concat([drifted[d] for d in days[4:]])
    assert after["amount"].mean() > 1.2 * before["amount"].mean()
    reference = pd.concat([plain[d] for d in days[:4]])["amount"]
    edges = np.r_[-np.inf, np.quantile(reference, np.linspace(0.1, 0.9, 9)), np.inf]
    assert _psi(reference, before["amount"], edges) < 0.02
    assert _psi(reference, after["amount"], edges) > 0.08
    online = (after["channel"] == "online").mean() - (before["channel"] == "online").mean()
    assert online > 0.1
    skim = (after["merchant_category"] == "fuel") & (after["channel"] == "pos")
    old_skim = (before["merchant_category"] == "fuel") & (before["channel"] == "pos")
    assert after.loc[skim, "is_fraud"].sum() > 3 * max(1, before.loc[old_skim, "is_fraud"].sum())


def test_rejects_a_negative_number_of_days():
    with pytest.raises(ValueError, match="days"):
        generate_transactions(-1, START, SEED)


# landing CSV and corruptions ----------------------------------------------------------------


@pytest.fixture(scope="module")
def small_day() -> pd.DataFrame:
    return generate_transactions(1, START, SEED, rows_per_day=300)[START]


def test_clean_csv_is_utf8_with_iso_utc_times_and_round_trips(small_day):
    data = to_csv_bytes(small_day)
    back = _read(data)
    assert tuple(back.columns) == TRANSACTION_COLUMNS
    assert len(back) == len(small_day)
    assert back["event_time"].str.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$").all()
    parsed = pd.to_datetime(back["event_time"], utc=True).dt.as_unit("ns")
    pd.testing.assert_series_equal(parsed, small_day["event_time"])


HEADER = ",".join(TRANSACTION_COLUMNS)


def _truncated(data: bytes, clean: bytes) -> bool:
    last = data.decode().splitlines()[-1]
    cut_inside_a_row = last not in clean.decode().splitlines()
    return clean.startswith(data) and not data.endswith(b"\n") and cut_inside_a_row


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return _read(data, "latin-1")["merchant_id"].str.endswith("\xff\xfe").any()
    return False


TX_CHECKS: dict[str, Callable[[bytes, bytes], bool]] = {
    "missing_column": lambda d, c: (
        list(_read(d).columns) == [x for x in TRANSACTION_COLUMNS if x != "amount"]
    ),
    "renamed_column": lambda d, c: "amt" in _read(d).columns and "amount" not in _read(d).columns,
    "wrong_type": lambda d, c: (_read(d)["customer_age"] == "abc").any(),
    "negative_amount": lambda d, c: (_read(d)["amount"].astype(float) < 0).any(),
    "duplicate_id": lambda d, c: _read(d)["transaction_id"].duplicated().any(),
    "empty": lambda d, c: d == b"",
    "header_only": lambda d, c: d.decode() == HEADER + "\n",
    "non_utf8": lambda d, c: _not_utf8(d),
    "truncated": _truncated,
    "unknown_channel": lambda d, c: (_read(d)["channel"] == "telepathy").any(),
    "bad_label": lambda d, c: (_read(d)["is_fraud"] == "2").any(),
    "bad_timestamp": lambda d, c: (
        pd.to_datetime(_read(d)["event_time"], utc=True, errors="coerce").isna().any()
    ),
    "future_timestamp": lambda d, c: (
        pd.to_datetime(_read(d)["event_time"], utc=True).dt.year.max() == 2999
    ),
    "random_bytes": lambda d, c: len(d) > 0 and not d.startswith(HEADER.encode()),
}
# cell-level corruptions: the one column they break, everything else stays clean
TX_TARGETS = {
    "wrong_type": "customer_age",
    "negative_amount": "amount",
    "duplicate_id": "transaction_id",
    "non_utf8": "merchant_id",
    "unknown_channel": "channel",
    "bad_label": "is_fraud",
    "bad_timestamp": "event_time",
    "future_timestamp": "event_time",
}


def test_every_transaction_corruption_kind_has_a_check():
    assert set(TX_CHECKS) == set(CORRUPTION_KINDS)


@pytest.mark.parametrize("kind", CORRUPTION_KINDS)
def test_transaction_corruption_breaks_the_file_as_intended(small_day, kind):
    clean = to_csv_bytes(small_day)
    data = corrupt_transactions(small_day, kind, seed=3)
    assert data != clean
    assert data == corrupt_transactions(small_day, kind, seed=3)
    assert TX_CHECKS[kind](data, clean)


@pytest.mark.parametrize(("kind", "column"), TX_TARGETS.items())
def test_cell_corruption_touches_few_rows_of_one_column(small_day, kind, column):
    clean = _read(to_csv_bytes(small_day))
    bad = _read(corrupt_transactions(small_day, kind, seed=3), "latin-1")
    assert list(bad.columns) == list(clean.columns)
    assert len(bad) == len(clean)
    changed = bad != clean
    assert set(changed.columns[changed.any()]) == {column}
    assert 1 <= changed[column].sum() <= max(2, len(clean) // 50)


def test_corruption_rejects_an_unknown_kind(small_day):
    with pytest.raises(ValueError, match="unknown corruption kind"):
        corrupt_transactions(small_day, "gremlins", seed=3)


# recommendations -------------------------------------------------------------------------------


def test_users_snapshot_shape_and_ranges(catalog):
    users, _ = catalog
    assert _dtypes(users) == {
        "user_id": "str",
        "age": "int64",
        "gender": "str",
        "occupation": "str",
    }
    assert len(users) == 1500
    assert users["user_id"].is_unique
    assert users["age"].between(18, 80).all()
    assert set(users["gender"]) == {"F", "M"}
    assert set(users["occupation"]) <= set(OCCUPATIONS)
    assert users["occupation"].nunique() >= 12


def test_items_snapshot_shape_and_ranges(catalog):
    _, items = catalog
    assert _dtypes(items) == {
        "item_id": "str",
        "title": "str",
        "genres": "str",
        "release_year": "Int64",
    }
    assert len(items) == 800
    assert items["item_id"].is_unique
    genres = items["genres"].str.split("|")
    assert genres.map(len).between(1, 3).all()
    assert genres.map(lambda g: len(set(g)) == len(g) and set(g) <= set(GENRES)).all()
    years = items["release_year"].dropna()
    assert years.between(1960, 2026).all()
    assert 0.01 <= items["release_year"].isna().mean() <= 0.06


def test_catalog_is_deterministic_and_seed_dependent(catalog):
    users, items = catalog
    pd.testing.assert_frame_equal(users, generate_users(SEED))
    pd.testing.assert_frame_equal(items, generate_items(SEED))
    assert not users["age"].equals(generate_users(SEED + 1)["age"])
    assert not items["genres"].equals(generate_items(SEED + 1)["genres"])


def test_interactions_columns_and_ranges(plays, catalog):
    users, items = catalog
    for k, df in enumerate(plays):
        assert _dtypes(df) == {
            "user_id": "str",
            "item_id": "str",
            "event_time": "datetime64[ns, UTC]",
            "rating": "float64",
        }
        assert len(df) == 3000
        assert (df["event_time"].dt.date == START + dt.timedelta(days=k)).all()
    df = pd.concat(plays, ignore_index=True)
    assert df["rating"].between(1.0, 5.0).all()
    assert ((df["rating"] * 2) % 1 == 0).all()
    assert df["rating"].nunique() >= 7
    assert df["user_id"].isin(users["user_id"]).all()
    assert df["item_id"].isin(items["item_id"]).all()


def test_no_user_consumes_an_item_twice(plays):
    df = pd.concat(plays, ignore_index=True)
    assert not df.duplicated(["user_id", "item_id"]).any()


def test_interaction_day_is_the_same_however_many_days_are_generated(catalog):
    users, items = catalog
    short = generate_interactions(2, START, SEED, users, items, rows_per_day=500)
    long = generate_interactions(4, START, SEED, users, items, rows_per_day=500)
    for day, df in short.items():
        pd.testing.assert_frame_equal(df, long[day])
    other = generate_interactions(1, START, SEED + 1, *_catalog(SEED + 1), rows_per_day=500)
    assert not other[START]["item_id"].equals(short[START]["item_id"])


def _catalog(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_users(seed), generate_items(seed)


def test_popularity_is_long_tailed(plays):
    counts = pd.concat(plays)["item_id"].value_counts()
    top = counts.iloc[: 800 // 10].sum()
    assert top / counts.sum() > 0.4


def _index(ids: pd.Series) -> np.ndarray:
    return ids.str[2:].astype(int).to_numpy()


def test_users_consume_their_top_genre_more_often_than_chance(plays, catalog):
    users, items = catalog
    latent = build_recs_latent(SEED, len(users), len(items))
    df = pd.concat(plays, ignore_index=True)
    user, item = _index(df["user_id"]), _index(df["item_id"])
    top_genre = latent.taste.argmax(axis=1)[user]
    matched = latent.item_genres[item, top_genre].mean()
    chance = latent.item_genres[:, top_genre].mean()
    assert matched > 2 * chance


def _ndcg_at_10(scores: np.ndarray, seen: np.ndarray, relevant: np.ndarray) -> float:
    scores = np.where(seen, -np.inf, scores)
    top = np.argsort(-scores, axis=1)[:, :10]
    gains = np.take_along_axis(relevant, top, axis=1) / np.log2(np.arange(2, 12))
    ideal = np.sort(relevant, axis=1)[:, ::-1][:, :10] / np.log2(np.arange(2, 12))
    return float((gains.sum(axis=1) / ideal.sum(axis=1)).mean())


def test_genre_affinity_from_history_beats_popularity(plays, catalog):
    users, items = catalog
    genres = np.array([[g in s.split("|") for g in GENRES] for s in items["genres"]], float)
    history, future = pd.concat(plays[:6]), plays[6]
    hu, hi = _index(history["user_id"]), _index(history["item_id"])
    popularity = np.log1p(np.bincount(hi, minlength=len(items)))
    affinity = np.full((len(users), len(GENRES)), 0.5)
    np.add.at(affinity, hu, genres[hi])
    affinity /= affinity.sum(axis=1, keepdims=True)
    seen = np.zeros((len(users), len(items)), dtype=bool)
    seen[hu, hi] = True
    relevant = np.zeros((len(users), len(items)))
    relevant[_index(future["user_id"]), _index(future["item_id"])] = 1.0
    active = np.flatnonzero(relevant.sum(axis=1))
    match = affinity[active] @ (genres / genres.sum(axis=1, keepdims=True)).T
    baseline = np.broadcast_to(popularity, match.shape)
    pop_ndcg = _ndcg_at_10(baseline, seen[active], relevant[active])
    taste_ndcg = _ndcg_at_10(baseline + np.log(match), seen[active], relevant[active])
    assert taste_ndcg > 1.1 * pop_ndcg


def test_drift_makes_an_obscure_item_a_hit_and_keeps_earlier_days(plays, catalog):
    users, items = catalog
    drifted = list(generate_interactions(4, START, SEED, users, items, drift_from_day=2).values())
    for plain_day, drifted_day in zip(plays[:2], drifted[:2], strict=True):
        pd.testing.assert_frame_equal(plain_day, drifted_day)
    hit = items["item_id"].iloc[build_recs_latent(SEED, len(users), len(items)).hit_item]
    before = int((pd.concat(plays[2:4])["item_id"] == hit).sum())
    after = pd.concat(drifted[2:])["item_id"].value_counts()
    assert after.index[0] == hit
    assert after.iloc[0] > 20 * max(before, 1)


def test_interactions_need_the_catalog_of_their_seed(catalog):
    users, items = catalog
    with pytest.raises(ValueError, match="catalog generated for this seed"):
        generate_interactions(1, START, SEED, generate_users(SEED + 1), items)
    with pytest.raises(ValueError, match="catalog generated for this seed"):
        generate_interactions(1, START, SEED, users, generate_items(SEED + 1))


@pytest.fixture(scope="module")
def small_plays(catalog: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    users, items = catalog
    return generate_interactions(1, START, SEED, users, items, rows_per_day=300)[START]


PLAY_CHECKS: dict[str, Callable[[bytes], bool]] = {
    "missing_column": lambda d: list(_read(d).columns) == ["user_id", "item_id", "event_time"],
    "bad_rating": lambda d: (_read(d)["rating"].astype(float) == 9).any(),
    "duplicate_rows": lambda d: _read(d).duplicated(["user_id", "item_id", "event_time"]).any(),
    "unknown_item": lambda d: not _read(d)["item_id"].isin(generate_items(SEED)["item_id"]).all(),
    "empty": lambda d: d == b"",
    "random_bytes": lambda d: len(d) > 0 and not d.startswith(b"user_id"),
}


def test_every_interaction_corruption_kind_has_a_check():
    assert set(PLAY_CHECKS) == set(INTERACTION_CORRUPTION_KINDS)


@pytest.mark.parametrize("kind", INTERACTION_CORRUPTION_KINDS)
def test_interaction_corruption_breaks_the_file_as_intended(small_plays, kind):
    data = corrupt_interactions(small_plays, kind, seed=3)
    assert data != to_csv_bytes(small_plays)
    assert data == corrupt_interactions(small_plays, kind, seed=3)
    assert PLAY_CHECKS[kind](data)
