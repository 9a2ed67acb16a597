"""Evaluation metrics as plain numpy functions (weighted, so the bootstrap can reuse them).

Binary: PR-AUC (average precision), ROC-AUC, log loss, Brier score, expected
calibration error. Ranking metrics live in ``ranking_metrics.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EPS = 1e-15


def average_precision(y: np.ndarray, score: np.ndarray, weight: np.ndarray | None = None) -> Any:
    """PR-AUC as average precision (the step-wise sum scikit-learn uses), with row weights.

    ``weight`` may be 2-D (one row of weights per bootstrap resample): the
    result is then one value per resample. Tied scores are one threshold.
    NaN where no positive has weight.
    """
    return _precision_steps(y, score)(weight)


def on_fixed_scores(fn: Any, y: np.ndarray, score: np.ndarray) -> Any:
    """``fn(y, score, weight)`` as a function of ``weight`` alone, for many weightings of
    the same scores (a bootstrap's chunks): what depends only on the scores' order (a sort
    of every row) is done once, not once per chunk, where ``fn`` allows it."""
    if fn is average_precision:
        return _precision_steps(y, score)
    return lambda weight: fn(y, score, weight)


def _precision_steps(y: np.ndarray, score: np.ndarray) -> Any:
    """Average precision under any row weights, for fixed labels and scores."""
    order = np.argsort(-score, kind="mergesort")
    s, positive = score[order], y[order] > 0
    if not positive.any():

        def undefined(weight: np.ndarray | None) -> Any:
            nan = np.full(np.shape(weight)[:-1] if weight is not None else (), np.nan)
            return float(nan) if nan.ndim == 0 else nan

        return undefined
    # Only thresholds (tie groups) holding a positive add recall, so precision is needed
    # there alone: the weight seen down to each such group's end, and the positives' weight
    # (a cumulative sum over the few positive rows, not over every row).
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # each tie group's last row
    group = np.searchsorted(last, np.flatnonzero(positive))  # tie group of each positive
    ends = np.r_[np.flatnonzero(np.diff(group)), len(group) - 1]  # last positive per group
    bounds = last[group[ends]]  # sorted position where each such threshold ends
    # The weight seen down to each bound, from per-segment sums taken in the rows' own
    # order (no permuted copy of a resamples x rows matrix, no cumulative sum over it).
    rank = np.empty(len(s), dtype=np.intp)
    rank[order] = np.arange(len(s))
    segment = np.searchsorted(bounds, rank, side="left")  # past the last bound: ignored
    positives = order[positive]

    def weighted(weight: np.ndarray | None) -> Any:
        w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
        return _summed(w, segment, len(bounds), positives, ends)

    return weighted


def _summed(
    w: np.ndarray, segment: np.ndarray, bounds: int, positives: np.ndarray, ends: np.ndarray
) -> Any:
    rows = w.reshape(-1, w.shape[-1])
    sums = np.stack([np.bincount(segment, weights=r, minlength=bounds + 1) for r in rows])
    seen = np.cumsum(sums[:, :-1], axis=-1).reshape(*w.shape[:-1], bounds)
    tp = np.cumsum(w[..., positives], axis=-1)[..., ends]
    total_pos = tp[..., -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        # tp <= seen holds exactly; the two sums round differently, so clip to [0, 1]
        precision = np.minimum(tp / np.maximum(seen, EPS), 1.0)
        recall_step = np.diff(tp, axis=-1, prepend=0.0) / total_pos
        result = np.clip(np.sum(recall_step * precision, axis=-1), 0.0, 1.0)
    result = np.where(total_pos[..., 0] > 0, result, np.nan)
    return float(result) if result.ndim == 0 else result


def roc_auc(y: np.ndarray, score: np.ndarray, weight: np.ndarray | None = None) -> Any:
    """ROC-AUC via the weighted Mann-Whitney statistic (ties count half); 2-D weights as above."""
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
    order = np.argsort(score, kind="mergesort")
    s, yy, ww = score[order], y[order].astype(bool), w[..., order]
    pos_w = np.sum(np.where(yy, ww, 0.0), axis=-1)
    neg_w = np.sum(np.where(yy, 0.0, ww), axis=-1)
    start = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    neg_tie = np.add.reduceat(np.where(yy, 0.0, ww), start, axis=-1)
    pos_tie = np.add.reduceat(np.where(yy, ww, 0.0), start, axis=-1)
    neg_below = np.cumsum(neg_tie, axis=-1) - neg_tie
    wins = np.sum(pos_tie * (neg_below + 0.5 * neg_tie), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = np.where((pos_w > 0) & (neg_w > 0), wins / (pos_w * neg_w), np.nan)
    return float(result) if result.ndim == 0 else result


def log_loss(y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Mean binary cross-entropy."""
    pc = np.clip(p, EPS, 1 - EPS)
    losses = -(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    return _mean(losses, weight)


def brier(y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Mean squared error of the probability."""
    return _mean((p - y) ** 2, weight)


def _mean(values: np.ndarray, weight: np.ndarray | None) -> Any:
    if weight is None:
        return float(np.mean(values))
    w = np.asarray(weight, dtype=float)
    result = (w @ values if w.ndim == 2 else np.dot(w, values)) / np.sum(w, axis=-1)
    return float(result) if np.ndim(result) == 0 else result


def calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(float(p[mask].mean()) - float(y[mask].mean()))
    return total / max(len(y), 1)


BINARY_FUNCS = {
    "pr_auc": average_precision,
    "roc_auc": roc_auc,
    "log_loss": log_loss,
    "brier": brier,
}


def binary_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Every binary metric on one set of predictions."""
    return {name: fn(y, p) for name, fn in BINARY_FUNCS.items()}
