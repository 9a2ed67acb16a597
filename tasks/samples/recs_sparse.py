"""Sparse, real-shaped ratings for the ranker: weekly files, long tail, taste drift (pure).

Shaped like public movie-ratings data rather than the dense daily demo: about 900
users and 1,600 items, each user rates a burst of items when they join and a few
more over the following weeks (many users have only a handful of ratings), item
popularity is a long tail that rises at release and fades, and tastes drift over
the months. One frame per week, keyed by the week's first day. Deterministic for
a seed; users and items are the ones ``generate_users``/``generate_items`` give
for the same seed and sizes, so their snapshots land beside the weekly files.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from tasks.samples.recs import TASTE_WEIGHT, build_recs_latent, generate_items, generate_users

__all__ = [
    "SPARSE_ITEMS", "SPARSE_SPEC", "SPARSE_USERS", "build_recs_latent",
    "generate_sparse_interactions", "merge_spec", "sparse_items", "sparse_users",
]  # fmt: skip

SPARSE_USERS, SPARSE_ITEMS = 900, 1600
RATINGS_PER_WEEK = 3000
FADE_WEEKS = 10.0  # an item's popularity halves-ish every this many weeks after release
_STREAM = 21


def sparse_users(seed: int) -> pd.DataFrame:
    """The users snapshot of the sparse profile."""
    return generate_users(seed, SPARSE_USERS)


def sparse_items(seed: int) -> pd.DataFrame:
    """The items snapshot of the sparse profile."""
    return generate_items(seed, SPARSE_ITEMS)


def _user_weeks(rng: np.random.Generator, weeks: int, total: int) -> np.ndarray:
    """(users, weeks) ratings per user and week: a burst at joining, a thin tail after."""
    join = rng.integers(0, weeks, SPARSE_USERS)
    size = np.exp(rng.normal(0.0, 1.1, SPARSE_USERS))
    counts = np.clip(np.rint(size / size.sum() * total), 3, 400).astype(np.int64)
    span = 1 + rng.geometric(0.35, SPARSE_USERS)
    out = np.zeros((SPARSE_USERS, weeks), dtype=np.int64)
    for u in range(SPARSE_USERS):
        last = min(weeks, join[u] + span[u])
        burst = int(np.ceil(0.6 * counts[u])) if last - join[u] > 1 else int(counts[u])
        out[u, join[u]] = burst
        if last - join[u] > 1:
            out[u, join[u] + 1 : last] = rng.multinomial(
                counts[u] - burst, np.full(last - join[u] - 1, 1 / (last - join[u] - 1))
            )
    return out


def generate_sparse_interactions(
    weeks: int, start: dt.date, seed: int, ratings_per_week: int = RATINGS_PER_WEEK
) -> dict[dt.date, pd.DataFrame]:
    """One frame of (user_id, item_id, event_time, rating) per week, keyed by its first day.

    Choice follows (fading popularity) x (drifting taste match); nobody rates an item
    twice; a third of the items are released during the period (none is rated before).
    """
    latent = build_recs_latent(seed, SPARSE_USERS, SPARSE_ITEMS)
    rng = np.random.default_rng([seed, _STREAM])
    per_week = _user_weeks(rng, weeks, ratings_per_week * weeks)
    release = np.where(
        rng.random(SPARSE_ITEMS) < 0.35,
        rng.uniform(0, weeks, SPARSE_ITEMS),
        -rng.exponential(40.0, SPARSE_ITEMS),
    )
    seen = np.zeros((SPARSE_USERS, SPARSE_ITEMS), dtype=bool)
    user_ids = generate_users(seed, SPARSE_USERS)["user_id"].to_numpy()
    item_ids = generate_items(seed, SPARSE_ITEMS)["item_id"].to_numpy()
    out = {}
    for k in range(weeks):
        active = np.flatnonzero(per_week[:, k])
        counts = np.minimum(per_week[active, k], (~seen[active]).sum(axis=1))
        drift = k / max(weeks - 1, 1)
        taste = (1 - drift) * latent.taste[active] + drift * latent.drifted_taste[active]
        match = taste @ latent.item_genres.T / latent.item_genres.sum(axis=1)
        affinity = match / taste.max(axis=1, keepdims=True)
        age = k + 0.5 - release
        fade = np.where(age > 0, 0.15 + np.exp(-np.maximum(age, 0) / FADE_WEEKS), 0.0)
        with np.errstate(divide="ignore"):
            log_pop = np.log(latent.popularity * fade)
        keys = log_pop + TASTE_WEIGHT * affinity - np.log(rng.standard_exponential(affinity.shape))
        keys[seen[active]] = -np.inf
        most = int(counts.max(initial=1))
        top = np.argsort(-keys, axis=1, kind="stable")[:, :most]
        take = np.arange(most)[None, :] < counts[:, None]
        user, item = np.repeat(active, counts), top[take]
        item_ok = np.isfinite(keys[np.repeat(np.arange(len(active)), counts), item])
        user, item = user[item_ok], item[item_ok]
        seen[user, item] = True
        aff = affinity[np.searchsorted(active, user), item]
        score = 3.4 + 0.5 * latent.quality[item] + 1.6 * (aff - 0.5) + latent.rating_bias[user]
        rating = np.clip(np.round(score + rng.normal(0.0, 0.7, len(user))), 1.0, 5.0)
        seconds = rng.integers(0, 7 * 86_400, len(user))
        order = np.lexsort((item, user, seconds))
        day = start + dt.timedelta(weeks=k)
        times = np.datetime64(day.isoformat(), "ns") + seconds[order].astype("timedelta64[s]")
        frame = {"user_id": user_ids[user[order]], "item_id": item_ids[item[order]]}
        frame |= {"event_time": pd.DatetimeIndex(times).tz_localize("UTC"), "rating": rating[order]}
        out[day] = pd.DataFrame(frame).astype({"user_id": "str", "item_id": "str"})
    return out


# What the shipped recs spec needs to fit weekly, sparse data (README: "Sparse data"):
SPARSE_SPEC = {
    "split": {
        "training_window_days": 28,
        "validation_days": 28,
        "test_days": 28,
        "label_maturity_days": 0,
        "min_rows": 50,
    },
    "ranking": {
        "label_windows": 3,
        "candidates": {"whole_catalog_max_items": 5000, "popularity_days": 56},
    },
}


def merge_spec(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` (a spec as a dict) with ``overrides`` merged in, nested mappings key by key."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_spec(out[key], value)
        else:
            out[key] = value
    return out
