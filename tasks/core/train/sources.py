"""Candidate sources for the ranker and how much of what users went on to do each covers.

A small catalogue is scored whole. A larger one is cut to the union of three sources,
each a boolean (users x items) mask: items rated relevant most often recently (the
same for everyone), items most co-consumed with the user's history (recent co-visits
weigh more) and items whose genres match the user's history best.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from schemas.specs import Candidates

WHOLE_CATALOG, UNION = "whole_catalog", "union"


@dataclass(frozen=True)
class Signals:
    """History signals of the active users (rows) over the catalogue (columns)."""

    seen: np.ndarray  # bool: consumed before the window (never a candidate)
    covisit: np.ndarray  # co-visits with the user's history
    covisit_recent: np.ndarray  # the same, each interaction weighted by its recency
    affinity: np.ndarray  # genre match of the item with the user's history, in [0, 1]
    recent_positive: np.ndarray  # (items,) ratings >= relevant in the popularity window


@dataclass(frozen=True)
class Selected:
    """The candidate mask and the mask of every source it is the union of."""

    mode: str
    mask: np.ndarray
    sources: dict[str, np.ndarray]

    def recall(self, truth: np.ndarray, relevant_pairs: int) -> tuple[float, dict[str, float]]:
        """Share of the window's (user, item) pairs covered overall and by each source."""
        total = max(relevant_pairs, 1)
        per_source = {name: float((m & truth).sum() / total) for name, m in self.sources.items()}
        return float((self.mask & truth).sum() / total), per_source


def select_candidates(signals: Signals, cfg: Candidates) -> Selected:
    """Whole catalogue when it is small enough, else the union of the three sources."""
    unseen = ~signals.seen
    if signals.seen.shape[1] <= cfg.whole_catalog_max_items:
        return Selected(WHOLE_CATALOG, unseen, {"catalog": unseen})
    sources = {
        "recent_positive": _top_items(signals.recent_positive, cfg.popular, signals.seen.shape),
        "covisit": _top_per_user(signals.covisit_recent, cfg.covisited, unseen),
        "genre": _top_per_user(signals.affinity, cfg.genre, unseen),
    }
    sources = {name: m & unseen for name, m in sources.items()}
    mask = np.zeros_like(unseen)
    for m in sources.values():
        mask |= m
    return Selected(UNION, mask, sources)


def _top_items(scores: np.ndarray, k: int, shape: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    if k:
        top = np.argsort(-scores, kind="stable")[:k]
        mask[:, top[scores[top] > 0]] = True
    return mask


def _top_per_user(scores: np.ndarray, k: int, allowed: np.ndarray) -> np.ndarray:
    """The k best-scoring allowed items of each row (only positive scores count); among
    items tied at the k-th score, the first ones (the order a stable sort would keep).

    A partition finds each row's k-th score in linear time (a full sort of every row
    costs several times more on a wide catalogue)."""
    masked = np.where(allowed, scores, -np.inf)
    if not k or not masked.size:
        return np.zeros_like(allowed)
    if k >= masked.shape[1]:
        return masked > 0
    kth = -np.partition(-masked, k - 1, axis=1)[:, k - 1 : k]
    above = masked > kth
    tied = masked == kth
    room = k - above.sum(axis=1, keepdims=True)  # places left for tied items
    return (above | (tied & (np.cumsum(tied, axis=1) <= room))) & (masked > 0)
