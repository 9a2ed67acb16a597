"""Score challenger and champion on the same holdout and gather the decision's evidence."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from schemas.specs import Policy
from tasks.core import metrics
from tasks.core.bootstrap import paired_bootstrap
from tasks.core.decision import Evidence, SliceMetric


def fingerprint_rows(keys: pd.DataFrame, labels: np.ndarray) -> str:
    """sha256 over the holdout's row keys and labels, in scoring order."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(keys, index=False).to_numpy().tobytes())
    digest.update(np.asarray(labels, dtype=np.int64).tobytes())
    return digest.hexdigest()


def slice_metrics(
    policy: Policy,
    slices: pd.DataFrame,
    y: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray | None,
) -> list[SliceMetric]:
    """The primary (and fairness) metric per value of every slice column."""
    names = [policy.primary_metric]
    fairness = policy.guards.fairness
    if fairness is not None and fairness.metric not in names:
        names.append(fairness.metric)
    out = []
    for column in slices.columns:
        values = slices[column].astype(str).to_numpy()
        for value in sorted(set(values)):
            mask = values == value
            for name in names:
                fn = metrics.BINARY_FUNCS[name]
                chal = fn(y[mask], challenger[mask], None)
                champ = fn(y[mask], champion[mask], None) if champion is not None else None
                out.append(SliceMetric(name, column, value, int(mask.sum()), chal, champ))
    return out


def evaluate_binary(
    policy: Policy,
    y: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    slices: pd.DataFrame,
    fingerprint: str,
    seed: int,
) -> Evidence:
    """Metrics of both models on the same rows, the paired interval and the slice metrics."""
    interval = None
    if champion is not None:
        interval = paired_bootstrap(
            metrics.BINARY_FUNCS[policy.primary_metric],
            y,
            challenger,
            champion,
            resamples=policy.bootstrap_resamples,
            confidence=policy.confidence,
            seed=seed,
        )
    return Evidence(
        primary_metric=policy.primary_metric,
        challenger=metrics.binary_metrics(y, challenger),
        champion=metrics.binary_metrics(y, champion) if champion is not None else None,
        interval=interval,
        fingerprint=fingerprint,
        slices=slice_metrics(policy, slices, y, challenger, champion),
        calibration_error=metrics.calibration_error(y, challenger),
    )
