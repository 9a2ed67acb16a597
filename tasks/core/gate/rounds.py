"""The early-stopping round of a booster trained for all its rounds (pure).

LightGBM's Dask interface has no early stopping (its validation parts are scattered over
the workers), so a cluster trains every round and the round is chosen here, on the whole
validation split, with the same rule the local tracker applies (tasks/core/train/booster.py):
the best score so far, stopping once ``patience`` rounds pass without a better one.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import lightgbm as lgb
import numpy as np

from schemas.errors import SpecError
from tasks.core.gate.metrics import log_loss, roc_auc
from tasks.core.train.booster import NUM_THREADS, Matrix, Progress

BLOCK = 32  # rounds scored together (memory: BLOCK x validation rows floats)


def _average_precision(y: np.ndarray, score: np.ndarray) -> float:
    """``metrics.average_precision`` without weights, in a few vector passes (it runs once
    per round here): precision at each tie group's end, weighted by the recall it adds."""
    order = np.argsort(-score)  # within a tie group the order does not matter
    positive = y[order] > 0
    if not positive.any():
        return float("nan")
    ends = np.r_[np.flatnonzero(np.diff(score[order])), len(score) - 1]  # tie groups' ends
    tp = np.cumsum(positive)[ends]
    precision = tp / (ends + 1)
    return float(np.sum(np.diff(tp, prepend=0) * precision) / tp[-1])


def ndcg(y: np.ndarray, score: np.ndarray, sizes: np.ndarray, k: int) -> float:
    """LightGBM's ``ndcg@k``, vectorised over query groups: gain 2^label - 1, discount
    log2(position + 2), ties in the order of the rows; a group with no relevant row counts
    1; the mean over groups."""
    group = np.repeat(np.arange(len(sizes)), sizes)
    start = np.r_[0, np.cumsum(sizes)[:-1]]

    def dcg(order: np.ndarray) -> np.ndarray:
        position = np.arange(len(order)) - start[group[order]]
        gains = (2.0 ** y[order] - 1) / np.log2(position + 2) * (position < k)
        return np.bincount(group[order], weights=gains, minlength=len(sizes))

    found = dcg(np.lexsort((-score, group)))
    ideal = dcg(np.lexsort((-y, group)))
    with np.errstate(invalid="ignore", divide="ignore"):
        per_group = np.where(ideal > 0, found / ideal, 1.0)
    return float(per_group.mean()) if len(per_group) else float("nan")


def _leaves(booster: lgb.Booster, x: np.ndarray, first: int, count: int) -> np.ndarray:
    """The leaf each row reaches in trees ``first`` to ``first + count - 1``: one row of
    indices a tree (contiguous, as each round reads them)."""
    found = booster.predict(
        x, pred_leaf=True, start_iteration=first, num_iteration=count, num_threads=NUM_THREADS
    )
    return np.ascontiguousarray(np.asarray(found).reshape(len(x), count).T)


Metric = Callable[[Matrix, np.ndarray, dict[str, Any]], float]

# LightGBM metric name -> (metric of the validation split and raw scores, higher is better)
METRICS: dict[str, tuple[Metric, bool]] = {
    "average_precision": (lambda m, raw, _p: _average_precision(m.y, raw), True),
    "auc": (lambda m, raw, _p: float(roc_auc(m.y, raw)), True),
    "binary_logloss": (lambda m, raw, _p: log_loss(m.y, 1 / (1 + np.exp(-raw))), False),
    "ndcg": (lambda m, raw, p: ndcg(m.y, raw, _sizes(m), int(p.get("eval_at", [10])[0])), True),
}


def _sizes(valid: Matrix) -> np.ndarray:
    if valid.group_sizes is None:
        raise ValueError("ndcg needs the validation split's query groups")
    return np.asarray(valid.group_sizes, dtype=int)


def metric_of(params: dict[str, Any]) -> str:
    """The first validation metric of LightGBM ``params``, if this module can compute it."""
    named = params.get("metric", "average_precision")
    name = str(named[0] if isinstance(named, list | tuple) else named)
    if name not in METRICS:
        raise SpecError(
            f"lightgbm.params.metric: {name!r} cannot choose the round of a model trained on"
            f" Dask; use one of {', '.join(sorted(METRICS))}"
        )
    return name


def early_stopped(
    booster: lgb.Booster, valid: Matrix, params: dict[str, Any], patience: int
) -> Progress:
    """Rounds, best round and best score as early stopping would have left them."""
    fn, higher = METRICS[metric_of(params)]
    trees = booster.dump_model()["tree_info"]
    rounds = booster.num_trees()  # binary and lambdarank: one tree per round
    raw = np.zeros(len(valid.y))
    progress = Progress()

    def score(values: np.ndarray) -> float:
        return float(fn(valid, values, params))

    # the rounds' scores a block at a time, on two threads (a metric is mostly numpy sorts,
    # which release the GIL); the rule then reads them in order, as the local tracker does.
    # Each block's leaves are predicted when it is reached: rows x BLOCK indices (all the
    # rounds' at once were rows x rounds floats: 460 MB and 3x the time on 144k rows), and
    # none for the rounds after the stop.
    with ThreadPoolExecutor(2, thread_name_prefix="round-metrics") as pool:
        for first in range(0, rounds, BLOCK):
            count = min(BLOCK, rounds - first)
            leaves = _leaves(booster, valid.x, first, count)
            block = []
            for offset, tree in enumerate(range(first, first + count)):
                out = [
                    booster.get_leaf_output(tree, leaf) for leaf in range(trees[tree]["num_leaves"])
                ]
                raw = raw + np.asarray(out)[leaves[offset]]  # the raw score after this round
                block.append(raw)
            for offset, value in enumerate(pool.map(score, block)):
                if progress.record(first + offset + 1, value, higher, patience):
                    return progress
    return progress
