"""The sparse profile: weekly files, long-tail items, users with few ratings, taste drift."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest

from schemas.errors import SpecError
from tasks.samples import sample_files
from tasks.samples.recs_sparse import (
    SPARSE_ITEMS,
    SPARSE_USERS,
    build_recs_latent,
    generate_sparse_interactions,
    sparse_items,
)

pytestmark = pytest.mark.unit

START = dt.date(2026, 1, 5)  # a Monday


@pytest.fixture(scope="module")
def weeks() -> dict[dt.date, pd.DataFrame]:
    return generate_sparse_interactions(20, START, 3)


@pytest.fixture(scope="module")
def ratings(weeks: dict[dt.date, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(weeks.values(), ignore_index=True)


def test_one_frame_per_week_within_its_week(weeks: dict[dt.date, pd.DataFrame]) -> None:
    assert sorted(weeks) == [START + dt.timedelta(weeks=k) for k in range(20)]
    for day, frame in weeks.items():
        begin = pd.Timestamp(day, tz="UTC")
        assert frame["event_time"].between(begin, begin + pd.Timedelta(days=7), "left").all()
        assert frame["rating"].isin([1.0, 2.0, 3.0, 4.0, 5.0]).all()


def test_users_have_few_ratings_and_items_a_long_tail(ratings: pd.DataFrame) -> None:
    per_user = ratings.groupby("user_id").size()
    per_item = ratings.groupby("item_id").size()
    assert per_user.median() < 80 and per_user.min() >= 1 and per_user.max() > 5 * per_user.median()
    top = per_item.sort_values(ascending=False)
    assert top.iloc[: len(top) // 10].sum() > 0.3 * top.sum()  # a tenth of items: > 30%
    assert not ratings.duplicated(["user_id", "item_id"]).any()
    assert ratings["user_id"].nunique() <= SPARSE_USERS
    assert ratings["item_id"].isin(sparse_items(3)["item_id"]).all()


def test_most_users_are_active_only_a_few_weeks(ratings: pd.DataFrame) -> None:
    week = (ratings["event_time"] - pd.Timestamp(START, tz="UTC")).dt.days // 7
    weeks_active = week.groupby(ratings["user_id"]).nunique()
    assert weeks_active.median() <= 4


def test_popularity_moves_and_tastes_drift(ratings: pd.DataFrame) -> None:
    early = ratings[ratings["event_time"] < pd.Timestamp(START, tz="UTC") + pd.Timedelta(weeks=5)]
    late = ratings[ratings["event_time"] >= pd.Timestamp(START, tz="UTC") + pd.Timedelta(weeks=15)]
    top_early = set(early["item_id"].value_counts().index[:50])
    top_late = set(late["item_id"].value_counts().index[:50])
    assert len(top_early & top_late) < 35  # recent popularity differs from the old one
    latent = build_recs_latent(3, SPARSE_USERS, SPARSE_ITEMS)
    assert not np.allclose(latent.taste, latent.drifted_taste)


def test_same_seed_same_weeks(weeks: dict[dt.date, pd.DataFrame]) -> None:
    again = generate_sparse_interactions(20, START, 3)
    assert all(again[d].equals(weeks[d]) for d in weeks)
    other = generate_sparse_interactions(20, START, 4)
    assert not other[START].equals(weeks[START])


def test_sample_files_write_weekly_csvs_and_matching_snapshots() -> None:
    files = sample_files("interactions", 28, START, 3, profile="sparse")
    assert sorted(files) == [START + dt.timedelta(weeks=k) for k in range(4)]
    name, body = next(iter(files[START].items()))
    assert name == f"interactions-week-{START.isoformat()}.csv"
    frame = pd.read_csv(io.BytesIO(body))
    items = sample_files("items", 28, START, 3, profile="sparse")[START]
    catalog = pd.read_csv(io.BytesIO(next(iter(items.values()))))
    assert len(catalog) == SPARSE_ITEMS and frame["item_id"].isin(catalog["item_id"]).all()
    users = sample_files("users", 28, START, 3, profile="sparse")[START]
    assert len(pd.read_csv(io.BytesIO(next(iter(users.values()))))) == SPARSE_USERS


def test_sparse_profile_refuses_other_datasets_and_unknown_profiles() -> None:
    with pytest.raises(SpecError, match="profile sparse covers interactions, items, users"):
        sample_files("transactions", 28, START, 3, profile="sparse")
    with pytest.raises(SpecError, match="unknown profile 'weekly'"):
        sample_files("interactions", 28, START, 3, profile="weekly")
