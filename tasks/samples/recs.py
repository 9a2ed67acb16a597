"""Synthetic users, items and interactions for the ranker.

Pure and deterministic. Hidden state (user genre tastes and activity, item popularity
and quality) is re-derived from the seed by ``build_recs_latent``; users and items come
from independent streams, and day ``k`` of interactions from the stream ``(seed, k)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

GENRES = (
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family",
    "Fantasy", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
)  # fmt: skip
OCCUPATIONS = (
    "administrator", "artist", "educator", "engineer", "entertainment", "executive",
    "healthcare", "homemaker", "lawyer", "marketing", "programmer", "retired", "sales",
    "scientist", "student",
)  # fmt: skip
TASTE_WEIGHT = 5.0  # log-odds of consuming a perfectly matching item vs a non-matching one
DRIFT_USER_SHARE = 0.3  # users whose tastes are redrawn from the drift day

_GENRE_P = np.array([12, 8, 5, 14, 7, 3, 16, 5, 6, 6, 2, 5, 8, 6, 9], dtype=float) / 112
_YOUNG_GENRES = np.isin(GENRES, ("Action", "Animation", "Horror", "Sci-Fi", "Fantasy"))
_OLD_GENRES = np.isin(GENRES, ("Documentary", "Drama", "Mystery", "Musical", "Crime"))
_ADJ = ("Silent", "Last", "Hidden", "Broken", "Golden", "Dark", "Lost", "Electric", "Final",
        "Crimson", "Endless", "Wild", "Frozen", "Secret", "Burning", "Distant")  # fmt: skip
_NOUN = ("River", "Empire", "Garden", "Signal", "Horizon", "Machine", "Kingdom", "Echo", "Harbor",
         "Storm", "Mirror", "Voyage", "Orchard", "Circuit", "Lantern", "Frontier")  # fmt: skip
_USERS, _ITEMS, _INTERACTIONS = 11, 12, 13  # independent random streams


@dataclass(frozen=True)
class RecsLatent:
    """Hidden state behind the recommendation data; never written as columns."""

    taste: np.ndarray  # (users, genres), rows sum to 1
    drifted_taste: np.ndarray  # taste from the drift day on (a share of users redrawn)
    activity: np.ndarray  # (users,), sums to 1: share of the day's interactions
    rating_bias: np.ndarray  # (users,)
    item_genres: np.ndarray  # (items, genres) 0/1
    popularity: np.ndarray  # (items,), Zipf-like, sums to 1
    quality: np.ndarray  # (items,), standard-normal-ish
    hit_item: int  # index of the obscure item that becomes a hit from the drift day

    def affinity(self, drifted: bool = False) -> np.ndarray:
        """(users, items) taste match in [0, 1]: mean taste over the item's genres / top taste."""
        taste = self.drifted_taste if drifted else self.taste
        match = taste @ self.item_genres.T / self.item_genres.sum(axis=1)
        return match / taste.max(axis=1, keepdims=True)


def _tastes(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    tilt = np.where(_YOUNG_GENRES, 1.5 * (age < 30)[:, None], 0.0)
    tilt = tilt + np.where(_OLD_GENRES, 1.5 * (age >= 50)[:, None], 0.0)
    draws = rng.gamma(0.35 * (1 + tilt) * _GENRE_P * len(GENRES))
    return draws / draws.sum(axis=1, keepdims=True)


def _user_state(seed: int, n_users: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, _USERS])
    age = np.clip(np.rint(18 + rng.gamma(2.2, 9.0, n_users)), 18, 80).astype(np.int64)
    occupation = rng.choice(len(OCCUPATIONS), size=n_users)
    occupation[(age < 24) & (rng.random(n_users) < 0.6)] = OCCUPATIONS.index("student")
    occupation[(age >= 65) & (rng.random(n_users) < 0.7)] = OCCUPATIONS.index("retired")
    taste = _tastes(rng, age)
    redraw = rng.random(n_users) < DRIFT_USER_SHARE
    activity = np.clip(rng.lognormal(0.0, 0.8, n_users), 0.1, 8.0)
    return {
        "age": age,
        "gender": rng.choice(np.array(["F", "M"], dtype=object), size=n_users),
        "occupation": np.array(OCCUPATIONS, dtype=object)[occupation],
        "taste": taste,
        "drifted_taste": np.where(redraw[:, None], _tastes(rng, age), taste),
        "activity": activity / activity.sum(),
        "rating_bias": rng.normal(0.0, 0.3, n_users),
    }


def _item_state(seed: int, n_items: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, _ITEMS])
    n_genres = rng.choice([1, 2, 3], size=n_items, p=[0.45, 0.4, 0.15])
    keys = np.log(_GENRE_P) + rng.gumbel(size=(n_items, len(GENRES)))  # sample w/o replacement
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    popularity = 1.0 / (rng.permutation(n_items) + 1.0) ** 1.05
    year = np.maximum(2026 - np.floor(rng.exponential(14.0, n_items)), 1960).astype(np.int64)
    titles = [f"The {rng.choice(_ADJ)} {rng.choice(_NOUN)}" for _ in range(n_items)]
    obscure = np.flatnonzero(popularity < np.median(popularity))
    return {
        "item_genres": (rank < n_genres[:, None]).astype(float),
        "popularity": popularity / popularity.sum(),
        "quality": rng.normal(0.0, 1.0, n_items) + 0.1 * np.log(popularity / popularity.max()),
        "release_year": pd.array(np.where(rng.random(n_items) < 0.03, None, year), dtype="Int64"),
        "title": np.array(titles, dtype=object),
        "hit_item": np.array(rng.choice(obscure)),
    }


def build_recs_latent(seed: int, n_users: int = 1500, n_items: int = 800) -> RecsLatent:
    """Re-derive the hidden user tastes and item popularity/quality for ``seed``."""
    users, items = _user_state(seed, n_users), _item_state(seed, n_items)
    return RecsLatent(
        taste=users["taste"],
        drifted_taste=users["drifted_taste"],
        activity=users["activity"],
        rating_bias=users["rating_bias"],
        item_genres=items["item_genres"],
        popularity=items["popularity"],
        quality=items["quality"],
        hit_item=int(items["hit_item"]),
    )


def _ids(prefix: str, n: int) -> np.ndarray:
    return np.array([f"{prefix}-{i:05d}" for i in range(n)], dtype=object)


def generate_users(seed: int, n_users: int = 1500) -> pd.DataFrame:
    """Users snapshot: user_id, age (18..80), gender ('F'/'M'), occupation."""
    state = _user_state(seed, n_users)
    frame = {"user_id": _ids("u", n_users), "age": state["age"]}
    frame |= {"gender": state["gender"], "occupation": state["occupation"]}
    return pd.DataFrame(frame).astype({"user_id": "str", "gender": "str", "occupation": "str"})


def generate_items(seed: int, n_items: int = 800) -> pd.DataFrame:
    """Items snapshot: item_id, title, genres ('|'-joined, 1-3), release_year (Int64, ~3% null)."""
    state = _item_state(seed, n_items)
    genres = ["|".join(np.array(GENRES)[row > 0]) for row in state["item_genres"]]
    frame = {"item_id": _ids("i", n_items), "title": state["title"], "genres": genres}
    df = pd.DataFrame(frame).astype("str")
    df["release_year"] = state["release_year"]
    return df


def _check_catalog(
    given: pd.DataFrame, expected: pd.DataFrame, key: str, columns: list[str]
) -> None:
    """Raise unless ``given`` holds the same ids and ``columns`` values as ``expected``."""
    mine, theirs = expected.set_index(key)[columns], given.set_index(key)[columns]
    if len(theirs) != len(mine) or not theirs.index.is_unique:
        raise ValueError(f"{key}s do not match the catalog generated for this seed")
    if not theirs.reindex(mine.index).astype("str").equals(mine.astype("str")):
        raise ValueError(f"{key}s or {columns} do not match the catalog generated for this seed")


def _weights(latent: RecsLatent, drifted: bool) -> tuple[np.ndarray, np.ndarray]:
    """(affinity, log choice weight) matrices, both (users, items)."""
    popularity = latent.popularity.copy()
    if drifted:
        popularity[latent.hit_item] = 3.0 * popularity.max()
    affinity = latent.affinity(drifted)
    return affinity, np.log(popularity) + TASTE_WEIGHT * affinity


def _day_interactions(
    rng: np.random.Generator,
    latent: RecsLatent,
    weights: tuple[np.ndarray, np.ndarray],
    seen: np.ndarray,
    rows: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sample (user, item, second-of-day, rating) and mark the pairs as seen."""
    affinity, log_weight = weights
    counts = np.minimum(rng.multinomial(rows, latent.activity), (~seen).sum(axis=1))
    active = np.flatnonzero(counts)
    # Gumbel top-k (as an exponential race): weighted draws without replacement
    keys = np.log(rng.standard_exponential(size=(len(active), seen.shape[1])))
    np.subtract(log_weight[active], keys, out=keys)
    keys[seen[active]] = -np.inf
    most = int(counts.max(initial=1))
    top = np.argpartition(keys, -most, axis=1)[:, -most:]
    top = np.take_along_axis(top, np.argsort(-np.take_along_axis(keys, top, 1), axis=1), 1)
    user = np.repeat(active, counts[active])
    item = top[np.arange(most)[None, :] < counts[active][:, None]]
    seen[user, item] = True
    evening = (rng.normal(20.0, 2.5, len(user)) % 24) * 3600
    seconds = np.where(rng.random(len(user)) < 0.7, evening, rng.uniform(0, 86_400, len(user)))
    score = 3.5 + 0.5 * latent.quality[item] + 1.6 * (affinity[user, item] - 0.5)
    score = score + latent.rating_bias[user] + rng.normal(0.0, 0.6, len(user))
    rating = np.clip(np.round(score * 2) / 2, 1.0, 5.0)
    return user, item, np.minimum(seconds.astype(np.int64), 86_399), rating


def generate_interactions(
    days: int,
    start: dt.date,
    seed: int,
    users: pd.DataFrame,
    items: pd.DataFrame,
    *,
    rows_per_day: int = 3000,
    drift_from_day: int | None = None,
) -> dict[dt.date, pd.DataFrame]:
    """Generate one frame of (user_id, item_id, event_time, rating) per day, keyed by date.

    ``users``/``items`` must be the frames generated for ``seed`` (any row order), else
    ``ValueError``: the hidden tastes behind them are re-derived from ``seed``.
    Choice follows popularity x taste match x activity; no user consumes an item twice,
    so a day may hold fewer than ``rows_per_day`` rows only if users run out of items.
    From day index ``drift_from_day`` an obscure item becomes a hit and a share of users'
    tastes change; earlier days are unchanged.
    """
    _check_catalog(users, generate_users(seed, len(users)), "user_id", ["age", "gender"])
    _check_catalog(items, generate_items(seed, len(items)), "item_id", ["title", "genres"])
    latent = build_recs_latent(seed, len(users), len(items))
    user_ids, item_ids = _ids("u", len(users)), _ids("i", len(items))
    seen = np.zeros((len(users), len(items)), dtype=bool)
    weights = {False: _weights(latent, drifted=False)}
    out = {}
    for k in range(days):
        day = start + dt.timedelta(days=k)
        drifted = drift_from_day is not None and k >= drift_from_day
        rng = np.random.default_rng([seed, _INTERACTIONS, k])
        if drifted not in weights:
            weights[drifted] = _weights(latent, drifted)
        sample = _day_interactions(rng, latent, weights[drifted], seen, rows_per_day)
        user, item, seconds, rating = sample
        order = np.lexsort((item, user, seconds))
        times = np.datetime64(day.isoformat(), "ns") + seconds[order].astype("timedelta64[s]")
        frame = {"user_id": user_ids[user[order]], "item_id": item_ids[item[order]]}
        frame |= {"event_time": pd.DatetimeIndex(times).tz_localize("UTC"), "rating": rating[order]}
        out[day] = pd.DataFrame(frame).astype({"user_id": "str", "item_id": "str"})
    return out
