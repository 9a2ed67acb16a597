"""Ranking examples for one time window: candidates, history features, graded labels.

Everything a window's features use comes from interactions strictly before the
window starts (the history); the window itself only supplies the labels. So
features for the evaluation window never see the evaluation window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from schemas.specs import Ranking
from tasks.core.train.features import age_bands
from tasks.core.train.sources import WHOLE_CATALOG, Signals, select_candidates

HISTORY_FEATURES = [
    "covisit_score", "covisit_recent", "log_item_count", "log_item_recent_count",
    "log_item_recent_positive", "item_days_since_first", "item_mean_rating", "item_age_years",
    "genre_affinity", "log_user_count", "user_mean_rating",
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
    source_recall: dict[str, float] = field(default_factory=dict)
    candidate_mode: str = WHOLE_CATALOG


@dataclass(frozen=True)
class _History:
    user_ids: np.ndarray
    x: sparse.csr_matrix  # users x catalog items, 1 if consumed before the window
    xw: sparse.csr_matrix  # the same, weighted by recency (half-life of the spec)
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
    items = items.assign(**{cfg.item_column: items[cfg.item_column].astype(str)})
    items = items.sort_values(cfg.item_column, kind="mergesort").reset_index(drop=True)
    catalog = items[cfg.item_column].to_numpy()
    item_pos = pd.Series(np.arange(len(catalog)), index=catalog)
    h = _history(hist, item_pos, user_col, cfg, start)
    active = np.intersect1d(win[user_col].astype(str).unique(), h.user_ids)
    cold = win[user_col].astype(str).nunique() - len(active)
    rows = np.searchsorted(h.user_ids, active)
    ctx = _Context(h, rows, active, catalog, item_pos, items, start, cfg, user_col)
    signals = _signals(ctx)
    selected = select_candidates(signals, cfg.candidates)
    frame = _features(ctx, signals, selected.mask, users)
    gains, truth = _gains(win, active, ctx)
    frame["label"] = gains[np.nonzero(selected.mask)].astype(int)
    pairs = sum(len(g) for g in truth.gains)
    recall, by_source = selected.recall(gains > 0, pairs)
    return Window(frame, truth, recall, int(cold), by_source, selected.mode)


@dataclass(frozen=True)
class _Context:
    h: _History
    rows: np.ndarray  # history rows of the active users
    active: np.ndarray  # active users with history, sorted
    catalog: np.ndarray  # item ids, sorted
    item_pos: pd.Series
    items: pd.DataFrame  # sorted like catalog
    start: pd.Timestamp
    cfg: Ranking
    user_col: str


def _history(
    hist: pd.DataFrame, item_pos: pd.Series, user_col: str, cfg: Ranking, start: pd.Timestamp
) -> _History:
    known = hist[hist[cfg.item_column].astype(str).isin(item_pos.index)]
    # factorize hashes the ids and sorts only the distinct ones (np.unique sorts every row)
    u_codes, uniques = pd.factorize(known[user_col].astype(str), sort=True)
    user_ids = np.asarray(uniques, dtype=object)
    i_codes = item_pos.loc[known[cfg.item_column].astype(str)].to_numpy()
    shape = (len(user_ids), len(item_pos))
    x = sparse.csr_matrix((np.ones(len(known)), (u_codes, i_codes)), shape=shape)
    x.data[:] = 1.0  # repeated consumption counts once
    age = (start - known["event_time"]).dt.total_seconds().to_numpy() / 86_400
    weight = 0.5 ** (age / cfg.candidates.covisit_half_life_days)
    xw = sparse.csr_matrix((weight, (u_codes, i_codes)), shape=shape)
    return _History(user_ids, x, xw, known)


def _signals(ctx: _Context) -> Signals:
    h, rows, cfg = ctx.h, ctx.rows, ctx.cfg
    genres = _genre_matrix(ctx.items)
    profile = np.asarray(h.x[rows] @ genres, dtype=float)
    profile /= np.maximum(profile.sum(axis=1, keepdims=True), 1.0)
    positive = h.ratings[h.ratings[cfg.rating_column] >= cfg.relevant_rating]
    return Signals(
        seen=np.asarray(h.x[rows].todense(), dtype=bool),
        covisit=_covisits(h.x, rows),
        covisit_recent=_covisits(h.xw, rows),
        affinity=(profile @ genres.T) / np.maximum(genres.sum(axis=1), 1.0),
        recent_positive=_recent_counts(positive, ctx),
    )


def _covisits(x: sparse.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """Co-visit score of every item for the users at ``rows``: ``x[rows] @ C`` where
    ``C = x.T @ x`` with its diagonal (an item with itself) left out.

    Computed as ``(x[rows] @ x.T) @ x`` less each user's own diagonal term: the same
    numbers without forming the items x items matrix (7x faster on the sparse profile).
    """
    mine = x[rows]
    self_term = mine.multiply(np.asarray(x.multiply(x).sum(axis=0))).toarray()
    return np.asarray(((mine @ x.T) @ x).toarray(), dtype=float) - self_term


def _recent_counts(hist: pd.DataFrame, ctx: _Context) -> np.ndarray:
    days = ctx.cfg.candidates.popularity_days
    recent = hist[hist["event_time"] >= ctx.start - pd.Timedelta(days=days)]
    counts = recent[ctx.cfg.item_column].astype(str).value_counts()
    return counts.reindex(ctx.item_pos.index, fill_value=0).to_numpy(dtype=float)


def _features(
    ctx: _Context, signals: Signals, mask: np.ndarray, users: pd.DataFrame
) -> pd.DataFrame:
    u_idx, i_idx = np.nonzero(mask)
    r, cfg, item_col, user_col = ctx.h.ratings, ctx.cfg, ctx.cfg.item_column, ctx.user_col
    by_item = r.groupby(r[item_col].astype(str))
    item_stats = by_item[cfg.rating_column].agg(["sum", "count"]).reindex(ctx.catalog)
    item_stats = item_stats.fillna(0)
    first = by_item["event_time"].min().reindex(ctx.catalog)
    global_mean = float(r[cfg.rating_column].mean()) if len(r) else 3.0
    user_stats = r.groupby(r[user_col].astype(str))[cfg.rating_column].agg(["mean", "count"])
    user_stats = user_stats.reindex(ctx.active)
    years = pd.to_numeric(ctx.items["release_year"], errors="coerce").to_numpy(dtype=float)
    item_mean = (item_stats["sum"] + RATING_PRIOR * global_mean) / (
        item_stats["count"] + RATING_PRIOR
    )
    columns = {
        # ids taken from small string arrays: no per-row conversion of Python strings
        user_col: pd.array(ctx.active, dtype="str").take(u_idx),
        item_col: pd.array(ctx.catalog, dtype="str").take(i_idx),
        "covisit_score": signals.covisit[u_idx, i_idx],
        "covisit_recent": signals.covisit_recent[u_idx, i_idx],
        "log_item_count": np.log1p(item_stats["count"].to_numpy(dtype=float))[i_idx],
        "log_item_recent_count": np.log1p(_recent_counts(r, ctx))[i_idx],
        "log_item_recent_positive": np.log1p(signals.recent_positive)[i_idx],
        "item_days_since_first": ((ctx.start - first).dt.total_seconds() / 86_400).to_numpy(
            dtype=float, na_value=np.nan
        )[i_idx],
        "item_mean_rating": item_mean.to_numpy(dtype=float)[i_idx],
        "item_age_years": (ctx.start.year - years)[i_idx],
        "genre_affinity": signals.affinity[u_idx, i_idx],
        "log_user_count": np.log1p(user_stats["count"].to_numpy(dtype=float))[u_idx],
        "user_mean_rating": user_stats["mean"].to_numpy(dtype=float)[u_idx],
    }
    attrs = users.assign(**{user_col: users[user_col].astype(str)}).drop_duplicates(user_col)
    attrs = attrs.set_index(user_col).reindex(ctx.active)
    attrs["age_band"] = age_bands(pd.to_numeric(attrs["age"], errors="coerce"))
    for name in attrs.columns:
        if name not in columns:
            columns[name] = attrs[name].array.take(u_idx)
    return pd.DataFrame(columns)


def _genre_matrix(items: pd.DataFrame) -> np.ndarray:
    """Items x genres 0/1 matrix from pipe-separated codes (any vocabulary)."""
    dummies = items["genres"].fillna("").astype(str).str.get_dummies(sep="|")
    return dummies.reindex(sorted(dummies.columns), axis=1).to_numpy(dtype=float)


def _gains(win: pd.DataFrame, active: np.ndarray, ctx: _Context) -> tuple[np.ndarray, Truth]:
    """(active users x catalogue) gains of the window, and every user's true gains."""
    keys, cfg = [ctx.user_col, ctx.cfg.item_column], ctx.cfg
    w = win.assign(**{k: win[k].astype(str) for k in keys})
    w = w[w[ctx.user_col].isin(active)]
    w = w.assign(label=np.where(w[cfg.rating_column] >= cfg.relevant_rating, 2, 1))
    gains = w.groupby(keys, sort=True)["label"].max().reset_index()
    # gains is sorted by user: each user's labels are one slice (no per-group Python call)
    names, starts = np.unique(gains[ctx.user_col].to_numpy(), return_index=True)
    slices = np.split(gains["label"].to_numpy(dtype=float), starts[1:]) if len(names) else []
    per_user = dict(zip(names, slices, strict=True))
    truth = Truth(active, [per_user.get(u, np.zeros(0)) for u in active])
    known = gains[gains[cfg.item_column].isin(ctx.item_pos.index)]
    matrix = np.zeros((len(active), len(ctx.catalog)), dtype=np.int8)
    u = np.searchsorted(active, known[ctx.user_col].to_numpy())
    matrix[u, ctx.item_pos.loc[known[cfg.item_column]].to_numpy()] = known["label"].to_numpy()
    return matrix, truth
