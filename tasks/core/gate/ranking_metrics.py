"""Per-user ranking metrics at k: NDCG, MAP, recall, and catalog coverage.

Every per-user metric is measured against ALL of the user's relevant items in
the evaluation window (also those the candidate generator missed), so a
better candidate stage shows up in the metrics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.core.train.candidates import Truth

K = 10


def top_k(groups: np.ndarray, scores: np.ndarray, k: int = K) -> dict[int, np.ndarray]:
    """Row positions of each group's k best scores (ties broken by row order)."""
    if len(groups) == 0:
        return {}
    order = np.lexsort((np.arange(len(scores)), -scores, groups))
    starts = np.r_[0, np.flatnonzero(np.diff(groups[order])) + 1]
    ends = np.r_[starts[1:], len(order)]
    return {
        int(groups[order[s]]): order[s : min(e, s + k)] for s, e in zip(starts, ends, strict=True)
    }


def _dcg(gains: np.ndarray) -> float:
    return float(np.sum((2.0**gains - 1) / np.log2(np.arange(2, len(gains) + 2))))


def per_user_metrics(
    groups: np.ndarray, scores: np.ndarray, labels: np.ndarray, truth: Truth, k: int = K
) -> dict[str, np.ndarray]:
    """NDCG@k, MAP@k and recall@k per user of ``truth`` (``groups`` index truth.users).

    A user without candidate rows scores 0: nothing relevant was recommended.
    """
    tops = top_k(groups, scores, k)
    ndcg, ap, recall = (np.zeros(len(truth.users)) for _ in range(3))
    for u, gains in enumerate(truth.gains):
        rows = tops.get(u, np.zeros(0, dtype=int))
        rel = labels[rows].astype(float)
        n_rel = int(np.sum(gains > 0))
        if n_rel == 0:
            continue
        ideal = _dcg(np.sort(gains)[::-1][:k])
        ndcg[u] = _dcg(rel) / ideal if ideal > 0 else 0.0
        hits = rel > 0
        precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
        ap[u] = float(np.sum(precision_at * hits)) / min(k, n_rel)
        recall[u] = float(hits.sum()) / n_rel
    return {f"ndcg@{k}": ndcg, f"map@{k}": ap, f"recall@{k}": recall}


def coverage(
    groups: np.ndarray, scores: np.ndarray, items: np.ndarray, catalog: int, k: int = K
) -> float:
    """Share of the catalog that appears in at least one user's top k."""
    shown = {items[r] for rows in top_k(groups, scores, k).values() for r in rows}
    return len(shown) / max(catalog, 1)


def summarize(per_user: dict[str, np.ndarray], cover: float) -> dict[str, float]:
    """Mean of every per-user metric plus catalog coverage."""
    out = {
        name: float(np.mean(values)) if len(values) else float("nan")
        for name, values in per_user.items()
    }
    out[f"coverage@{K}"] = cover
    return out


def weighted_mean(_y: np.ndarray, values: np.ndarray, weight: np.ndarray | None) -> object:
    """Mean of per-user values under bootstrap weights (the gate's 'metric' for ranking)."""
    if weight is None:
        return float(np.mean(values))
    w = np.asarray(weight, dtype=float)
    return (w @ values) / np.sum(w, axis=-1)


def group_index(users: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer group ids in sorted-user order, and the sorted unique users."""
    uniques, codes = np.unique(users.astype(str).to_numpy(), return_inverse=True)
    return codes, uniques
