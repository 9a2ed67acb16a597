"""What the evaluation report plots, measured on the holdout (pure).

Compact JSON-ready summaries of each model's scores on the same rows: precision-recall and
ROC curves (thinned to at most ``POINTS`` points), the reliability diagram and the score
distribution by label. They go in the report, not in the card.
"""

from __future__ import annotations

from typing import Any

import numpy as np

POINTS = 200  # points kept per curve (evenly spaced along the threshold sweep)
BINS = 10  # reliability diagram: equal-width probability bins
HIST_BINS = 30


def binary_curves(y: np.ndarray, scores: dict[str, np.ndarray]) -> dict[str, Any]:
    """PR, ROC and reliability per model (``scores``: model name -> score per holdout row),
    and the first model's score distribution for each label."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    labels = np.asarray(y).astype(int)
    out: dict[str, Any] = {"pr": {}, "roc": {}, "reliability": {}}
    if labels.min(initial=0) == labels.max(initial=0):
        return out  # one class only: no curve is defined
    for name, score in scores.items():
        precision, recall, _ = precision_recall_curve(labels, score)
        fpr, tpr, _ = roc_curve(labels, score)
        out["pr"][name] = {"recall": _thin(recall), "precision": _thin(precision)}
        out["roc"][name] = {"fpr": _thin(fpr), "tpr": _thin(tpr)}
        out["reliability"][name] = reliability(labels, score)
    first = next(iter(scores), None)
    if first is not None:
        out["scores_by_label"] = {"model": first, **score_histogram(labels, scores[first])}
    return out


def _thin(values: np.ndarray) -> list[float]:
    if len(values) <= POINTS:
        return [float(v) for v in values]
    keep = np.unique(np.linspace(0, len(values) - 1, POINTS).round().astype(int))
    return [float(v) for v in values[keep]]


def reliability(y: np.ndarray, score: np.ndarray, bins: int = BINS) -> dict[str, list[Any]]:
    """Mean predicted probability, observed positive rate and row count per non-empty bin."""
    idx = np.minimum((np.clip(score, 0, 1) * bins).astype(int), bins - 1)
    predicted, observed, count = [], [], []
    for b in range(bins):
        mask = idx == b
        if mask.any():
            predicted.append(float(score[mask].mean()))
            observed.append(float(y[mask].mean()))
            count.append(int(mask.sum()))
    return {"predicted": predicted, "observed": observed, "count": count}


def score_histogram(y: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """Share of each label's rows per score bin over [0, 1] (labels compared by shape)."""
    edges = np.linspace(0.0, 1.0, HIST_BINS + 1)
    clipped = np.clip(score, 0, 1)
    out: dict[str, Any] = {"edges": [float(e) for e in edges]}
    for label, name in ((1, "positive"), (0, "negative")):
        counts, _ = np.histogram(clipped[y == label], bins=edges)
        out[name] = [float(c) / max(int(counts.sum()), 1) for c in counts]
        out[f"{name}_rows"] = int(np.sum(y == label))
    return out


def feature_gain(names: list[str], gains: np.ndarray) -> list[dict[str, Any]]:
    """Features by total gain, largest first, with their share of the total."""
    total = float(np.sum(gains)) or 1.0
    order = np.argsort(-np.asarray(gains, dtype=float), kind="stable")
    return [
        {"feature": names[i], "gain": float(gains[i]), "share": float(gains[i]) / total}
        for i in order
    ]
