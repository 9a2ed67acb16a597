"""Ranking examples for one time window: candidates, history features, graded labels.

Everything a window's features use comes from interactions strictly before the
window starts (the history); the window itself only supplies the labels. So
features for the evaluation window never see the evaluation window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from schemas.specs import Ranking
from tasks.core.train.features import age_bands

HISTORY_FEATURES = [
    "covisit_score", "log_item_count", "log_item_recent_count", "item_mean_rating",
    "item_age_years", "genre_affinity", "log_user_count", "user_mean_rating",
]  # fmt: skip
RATING_PRIOR = 5.0  # pseudo-ratings shrinking an item's mean towards the global mean


@dataclass(frozen=True)
class Truth:
    """What each user really did in the window: gains of their relevant items."""

    users: np.ndarray  # user ids, one per query group, in group order
    gains: list[np.ndarray]  # per user: graded relevance of every item they consumed


@dataclass(frozen=True)
class Window:
    """One window's candidate rows (sorted by user, item) and the users' true gains."""

    frame: pd.DataFrame
    truth: Truth
    candidate_recall: float
    cold_users: int  # active in the window but without history: not ranked


@dataclass(frozen=True)
class _History:
    user_ids: np.ndarray
    x: sparse.csr_matrix  # users x catalog items, 1 if consumed before the window
    ratings: pd.DataFrame


def build_window(
    interactions: pd.DataFrame,
    items: pd.DataFrame,
    users: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    cfg: Ranking,
    user_col: str,
) -> Window:
    """Candidates and features for users active in [start, end) who have history."""
    times = interactions["event_time"]
    hist = interactions[times < start]
    win = interactions[(times >= start) & (times < end)]
    catalog = items[cfg.item_column].astype(str).to_numpy()
    item_pos = pd.Series(np.arange(len(catalog)), index=catalog)
    h = _history(hist, item_pos, user_col, cfg)
    active = np.intersect1d(win[user_col].astype(str).unique(), h.user_ids)
    cold = win[user_col].astype(str).nunique() - len(active)
    rows = np.searchsorted(h.user_ids, active)
    cand, covisit = _candidates(h, rows, hist, start, cfg, item_pos)
    frame = _features(cand, covisit, h, rows, active, catalog, items, users, start, cfg, user_col)
    frame, truth, recall = _label(frame, win, active, cfg, user_col)
    return Window(frame, truth, recall, int(cold))


def _history(hist: pd.DataFrame, item_pos: pd.Series, user_col: str, cfg: Ranking) -> _History:
    known = hist[hist[cfg.item_column].astype(str).isin(item_pos.index)]
    user_ids, u_codes = np.unique(known[user_col].astype(str).to_numpy(), return_inverse=True)
    i_codes = item_pos.loc[known[cfg.item_column].astype(str)].to_numpy()
    x = sparse.csr_matrix(
        (np.ones(len(known)), (u_codes, i_codes)), shape=(len(user_ids), len(item_pos))
    )
    x.data[:] = 1.0  # repeated consumption counts once
    return _History(user_ids, x, known)


def _candidates(
    h: _History,
    rows: np.ndarray,
    hist: pd.DataFrame,
    start: pd.Timestamp,
    cfg: Ranking,
    item_pos: pd.Series,
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean (active users x items) candidate mask and the co-visitation scores."""
    co = (h.x.T @ h.x).tocsr()
    co.setdiag(0)
    covisit = np.asarray((h.x[rows] @ co).todense(), dtype=float)
    seen = np.asarray(h.x[rows].todense(), dtype=bool)
    mask = np.zeros_like(seen)
    c = cfg.candidates
    if c.covisited:
        scores = np.where(seen, -np.inf, covisit)
        top = np.argsort(-scores, axis=1, kind="stable")[:, : c.covisited]
        np.put_along_axis(mask, top, True, axis=1)
        mask &= covisit > 0
    if c.popular:
        recent = _recent_counts(hist, start, c.popularity_days, item_pos, cfg.item_column)
        popular = np.argsort(-recent, kind="stable")[: c.popular]
        mask[:, popular] = True
    return mask & ~seen, covisit


def _recent_counts(
    hist: pd.DataFrame, start: pd.Timestamp, days: float, item_pos: pd.Series, item_col: str
) -> np.ndarray:
    recent = hist[hist["event_time"] >= start - pd.Timedelta(days=days)]
    counts = recent[item_col].astype(str).value_counts()
    return counts.reindex(item_pos.index, fill_value=0).to_numpy(dtype=float)


def _features(
    mask: np.ndarray,
    covisit: np.ndarray,
    h: _History,
    rows: np.ndarray,
    active: np.ndarray,
    catalog: np.ndarray,
    items: pd.DataFrame,
    users: pd.DataFrame,
    start: pd.Timestamp,
    cfg: Ranking,
    user_col: str,
) -> pd.DataFrame:
    u_idx, i_idx = np.nonzero(mask)
    r = h.ratings
    item_stats = r.groupby(r[cfg.item_column].astype(str))[cfg.rating_column].agg(["sum", "count"])
    item_stats = item_stats.reindex(catalog, fill_value=0)
    global_mean = float(r[cfg.rating_column].mean()) if len(r) else 3.0
    user_stats = r.groupby(r[user_col].astype(str))[cfg.rating_column].agg(["mean", "count"])
    user_stats = user_stats.reindex(active)
    genres = _genre_matrix(items)
    profile = np.asarray(h.x[rows] @ genres, dtype=float)
    profile /= np.maximum(profile.sum(axis=1, keepdims=True), 1.0)
    affinity = (profile @ genres.T) / np.maximum(genres.sum(axis=1), 1.0)
    recent = _recent_counts(
        r,
        start,
        cfg.candidates.popularity_days,
        pd.Series(np.arange(len(catalog)), index=catalog),
        cfg.item_column,
    )
    years = pd.to_numeric(items["release_year"], errors="coerce").to_numpy(dtype=float)
    frame = pd.DataFrame(
        {
            user_col: active[u_idx],
            cfg.item_column: catalog[i_idx],
            "covisit_score": covisit[u_idx, i_idx],
            "log_item_count": np.log1p(item_stats["count"].to_numpy(dtype=float))[i_idx],
            "log_item_recent_count": np.log1p(recent)[i_idx],
            "item_mean_rating": (
                (item_stats["sum"] + RATING_PRIOR * global_mean)
                / (item_stats["count"] + RATING_PRIOR)
            ).to_numpy(dtype=float)[i_idx],
            "item_age_years": (start.year - years)[i_idx],
            "genre_affinity": affinity[u_idx, i_idx],
            "log_user_count": np.log1p(user_stats["count"].to_numpy(dtype=float))[u_idx],
            "user_mean_rating": user_stats["mean"].to_numpy(dtype=float)[u_idx],
        }
    )
    attrs = users.assign(**{user_col: users[user_col].astype(str)}).drop_duplicates(user_col)
    frame = frame.merge(attrs, on=user_col, how="left")
    frame["age_band"] = age_bands(pd.to_numeric(frame["age"], errors="coerce"))
    return frame


def _genre_matrix(items: pd.DataFrame) -> np.ndarray:
    """Items x genres 0/1 matrix from pipe-separated codes (any vocabulary)."""
    dummies = items["genres"].fillna("").astype(str).str.get_dummies(sep="|")
    return dummies.reindex(sorted(dummies.columns), axis=1).to_numpy(dtype=float)


def _label(
    frame: pd.DataFrame, win: pd.DataFrame, active: np.ndarray, cfg: Ranking, user_col: str
) -> tuple[pd.DataFrame, Truth, float]:
    keys = [user_col, cfg.item_column]
    w = win.assign(**{k: win[k].astype(str) for k in keys})
    w = w[w[user_col].isin(active)]
    w = w.assign(label=np.where(w[cfg.rating_column] >= cfg.relevant_rating, 2, 1))
    gains = w.groupby(keys, sort=True)["label"].max().reset_index()
    out = frame.merge(gains, on=keys, how="left").fillna({"label": 0})
    out["label"] = out["label"].astype(int)
    out = out.sort_values(keys, kind="mergesort").reset_index(drop=True)
    per_user = gains.groupby(user_col)["label"].apply(lambda s: s.to_numpy(dtype=float))
    truth = Truth(active, [per_user.get(u, np.zeros(0)) for u in active])
    recall = float((out["label"] > 0).sum() / max(len(gains), 1))
    return out, truth, recall
