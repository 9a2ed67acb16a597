"""Deterministic LightGBM training and the measurements taken on a trained booster."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import lightgbm as lgb
import numpy as np

from schemas.errors import TrainingInterruptedError
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


@dataclass
class Progress:
    """Resumable early-stopping state: rounds done and the best validation round so far."""

    rounds: int = 0
    best_round: int = 0
    best_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "best_round": self.best_round, "best_score": self.best_score}

    def record(self, done: int, score: float, higher_better: bool, patience: int) -> bool:
        """Note round ``done``'s validation score; True when early stopping ends training
        (``patience`` rounds without a better score). The one rule, locally and on Dask."""
        self.rounds = done
        best = self.best_score
        if best is None or (score > best if higher_better else score < best):
            self.best_score, self.best_round = float(score), done
        return done - self.best_round >= patience

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Progress:
        return cls(int(data["rounds"]), int(data["best_round"]), data.get("best_score"))


class Checkpoints(Protocol):
    """Where training saves its state every ``every`` rounds, and how it learns of SIGTERM."""

    every: int

    def save(self, text: str, progress: Progress) -> None: ...

    def interrupted(self) -> bool: ...


LOCAL: dict[str, Any] = {"kind": "local"}


@dataclass(frozen=True)
class Fitted:
    booster: lgb.Booster
    progress: Progress
    resumed_from: int | None  # round of the checkpoint this run continued, if any
    engine: dict[str, Any] = field(default_factory=lambda: dict(LOCAL))  # where it trained

    @property
    def text(self) -> str:
        """LightGBM text format cut at the best round (never pickle)."""
        return str(self.booster.model_to_string(num_iteration=self.progress.best_round))


def fit_booster(
    spec: ModelSpec,
    train: Matrix,
    valid: Matrix,
    feature_names: list[str],
    categorical: list[int],
    checkpoints: Checkpoints | None = None,
    resume: tuple[str, Progress] | None = None,
) -> Fitted:
    """Train with early stopping on the validation split, resumable from a checkpoint.

    Early stopping is tracked here (not by LightGBM's callback) so that its state
    survives a restart: without row or feature subsampling, a run resumed from a
    checkpoint yields the same model text as an uninterrupted one.

    Raises:
        TrainingInterruptedError: SIGTERM arrived; a checkpoint was saved first.
    """
    params = booster_params(spec)
    kwargs: dict[str, Any] = {
        "feature_name": feature_names,
        "categorical_feature": categorical,
        "free_raw_data": False,
    }
    dtrain = lgb.Dataset(train.x, train.y, group=train.group_sizes, params=params, **kwargs)
    dvalid = lgb.Dataset(valid.x, valid.y, group=valid.group_sizes, reference=dtrain, **kwargs)
    progress = Progress(**resume[1].to_dict()) if resume else Progress()
    init = lgb.Booster(model_str=resume[0]) if resume else None
    booster = lgb.train(
        params,
        dtrain,
        num_boost_round=spec.lightgbm.num_boost_round,
        valid_sets=[dvalid],
        valid_names=["validation"],
        callbacks=[_tracker(spec, progress, checkpoints)],
        init_model=init,
    )
    return Fitted(booster, progress, resume[1].rounds if resume else None)


def _tracker(spec: ModelSpec, progress: Progress, checkpoints: Checkpoints | None) -> Any:
    patience, total = spec.lightgbm.early_stopping_rounds, spec.lightgbm.num_boost_round

    def callback(env: Any) -> None:
        _, _, score, higher_better = env.evaluation_result_list[0]
        done = env.iteration + 1
        stop = progress.record(done, score, higher_better, patience) or done >= total
        if checkpoints is not None and checkpoints.interrupted():
            checkpoints.save(env.model.model_to_string(), progress)
            raise TrainingInterruptedError(done)
        if checkpoints is not None and not stop and done % checkpoints.every == 0:
            checkpoints.save(env.model.model_to_string(), progress)
        if stop:
            raise lgb.callback.EarlyStopException(
                progress.best_round - 1, env.evaluation_result_list
            )

    callback.order = 30  # type: ignore[attr-defined]
    return callback


def load_booster(text: str) -> lgb.Booster:
    """Parse model text. Callers must verify its sha256 first (a damaged file can abort)."""
    return lgb.Booster(model_str=text)


def predict(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """Scores for every row (probabilities for binary, raw scores for ranking)."""
    return np.asarray(booster.predict(x, num_threads=NUM_THREADS), dtype=float)
