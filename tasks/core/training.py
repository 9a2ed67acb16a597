"""Deterministic LightGBM training and the measurements taken on a trained booster."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

from schemas.specs import ModelSpec, Task

NUM_THREADS = 2  # fixed: with deterministic=True the model text is byte-identical run to run


@dataclass(frozen=True)
class Matrix:
    """Features, labels and (for ranking) query-group sizes of one split."""

    x: np.ndarray
    y: np.ndarray
    group_sizes: np.ndarray | None = None


def booster_params(spec: ModelSpec) -> dict[str, Any]:
    """The spec's LightGBM parameters plus the settings that make training reproducible."""
    base: dict[str, Any] = {
        "objective": "binary" if spec.task == Task.BINARY else "lambdarank",
        "metric": "average_precision" if spec.task == Task.BINARY else "ndcg",
        "seed": spec.seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": NUM_THREADS,
        "verbose": -1,
    }
    if spec.task == Task.RANKING:
        base["eval_at"] = [10]
    return {**base, **spec.lightgbm.params}


def fit_booster(
    spec: ModelSpec,
    train: Matrix,
    valid: Matrix,
    feature_names: list[str],
    categorical: list[int],
    callbacks: Sequence[Any] = (),
    init_model: lgb.Booster | None = None,
) -> lgb.Booster:
    """Train with early stopping on the validation split; returns the booster.

    The returned booster's text (``model_text``) is cut at the best iteration.
    """
    params = booster_params(spec)
    kwargs = {
        "feature_name": feature_names,
        "categorical_feature": categorical,
        "free_raw_data": False,
    }
    dtrain = lgb.Dataset(train.x, train.y, group=train.group_sizes, params=params, **kwargs)
    dvalid = lgb.Dataset(valid.x, valid.y, group=valid.group_sizes, reference=dtrain, **kwargs)
    stop = lgb.early_stopping(spec.lightgbm.early_stopping_rounds, verbose=False)
    return lgb.train(
        params,
        dtrain,
        num_boost_round=spec.lightgbm.num_boost_round,
        valid_sets=[dvalid],
        valid_names=["validation"],
        callbacks=[stop, *callbacks],
        init_model=init_model,
    )


def model_text(booster: lgb.Booster) -> str:
    """LightGBM text format at the best iteration (never pickle)."""
    best = booster.best_iteration or booster.current_iteration()
    return booster.model_to_string(num_iteration=best)


def load_booster(text: str) -> lgb.Booster:
    """Parse model text. Callers must verify its sha256 first (a damaged file can abort)."""
    return lgb.Booster(model_str=text)


def predict(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """Scores for every row (probabilities for binary, raw scores for ranking)."""
    return np.asarray(booster.predict(x, num_threads=NUM_THREADS), dtype=float)


def latency_p99_ms(booster: lgb.Booster, x: np.ndarray, samples: int = 200) -> float:
    """p99 wall time of single-row scoring, in milliseconds, over ``samples`` rows."""
    rows = x[: max(1, min(samples, len(x)))]
    times = []
    for i in range(len(rows)):
        start = time.perf_counter()
        booster.predict(rows[i : i + 1], num_threads=1)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 99))


def robustness_shift(
    booster: lgb.Booster, x: np.ndarray, numeric: int, noise: float, seed: int
) -> float:
    """Mean absolute change of the score when numeric inputs get relative noise.

    Only the first ``numeric`` columns (the numeric features) are perturbed.
    """
    rng = np.random.default_rng(seed)
    noisy = x.copy()
    noisy[:, :numeric] *= 1 + rng.normal(0.0, noise, size=(len(x), numeric))
    return float(np.mean(np.abs(predict(booster, noisy) - predict(booster, x))))


def ranking_churn(
    booster: lgb.Booster, x: np.ndarray, groups: np.ndarray, numeric: int, noise: float, seed: int
) -> float:
    """Share of each user's top 10 that changes when numeric inputs get relative noise."""
    from tasks.core.ranking_metrics import top_k

    rng = np.random.default_rng(seed)
    noisy = x.copy()
    noisy[:, :numeric] *= 1 + rng.normal(0.0, noise, size=(len(x), numeric))
    before, after = top_k(groups, predict(booster, x)), top_k(groups, predict(booster, noisy))
    churn = [1 - len(set(rows) & set(after[g])) / max(len(rows), 1) for g, rows in before.items()]
    return float(np.mean(churn)) if churn else 0.0
