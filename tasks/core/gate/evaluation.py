"""Score challenger and champion on the same holdout and gather the decision's evidence."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from schemas.specs import Policy, metric_direction
from tasks.core.gate import metrics
from tasks.core.gate import ranking_metrics as rm
from tasks.core.gate.bootstrap import Interval, paired_bootstrap, paired_draws, paired_intervals
from tasks.core.gate.decision import BaselineEvidence, Evidence, SliceMetric
from tasks.core.sampling import sample_positions

if TYPE_CHECKING:
    from tasks.core.train.prepared import Prepared


SLICE_ROWS = 50_000  # rows of a slice its bootstrap uses (a seeded sample when more)


def slice_metrics(
    policy: Policy,
    slices: pd.DataFrame,
    y: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    seed: int = 0,
) -> list[SliceMetric]:
    """The primary (and fairness) metric per value of every slice column; for the primary
    metric with a champion, the paired interval and the p-value of a regression beyond
    the slice guard's limit."""
    names = [policy.primary_metric]
    fairness = policy.guards.fairness
    if fairness is not None and fairness.metric not in names:
        names.append(fairness.metric)
    out = []
    for column in slices.columns:
        values = slices[column].astype(str).to_numpy()
        for value in sorted(set(values)):
            rows = np.flatnonzero(values == value)
            for name in names:
                out.append(_slice(policy, name, column, value, rows, y, challenger, champion, seed))
    return out


def _slice(
    policy: Policy,
    name: str,
    column: str,
    value: str,
    rows: np.ndarray,
    y: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    seed: int,
) -> SliceMetric:
    fn = metrics.BINARY_FUNCS[name]
    chal = fn(y[rows], challenger[rows], None)
    champ = fn(y[rows], champion[rows], None) if champion is not None else None
    base = SliceMetric(name, column, value, len(rows), chal, champ)
    guard = policy.guards.slices
    if champion is None or name != policy.primary_metric or guard is None:
        return base
    if column not in guard.columns or len(rows) < guard.min_size:
        return base
    keep = rows[sample_positions(len(rows), SLICE_ROWS, seed)]
    _est, diffs, _unit = paired_draws(
        fn, y[keep], challenger[keep], champion[keep],
        resamples=policy.bootstrap_resamples, seed=seed,
    )  # fmt: skip
    if not len(diffs):
        return base
    alpha = (1 - policy.confidence) / 2
    low, high = np.quantile(diffs, [alpha, 1 - alpha])
    drops = -metric_direction(name) * diffs  # positive: the challenger is worse
    p = (np.sum(drops <= guard.max_regression) + 1) / (len(drops) + 1)
    return replace(base, low=float(low), high=float(high), p_regression=float(p))


def evaluate_binary(
    policy: Policy,
    y: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    slices: pd.DataFrame,
    fingerprint: str,
    seed: int,
    baselines: dict[str, np.ndarray] | None = None,
) -> Evidence:
    """Metrics of both models on the same rows, the paired interval and the slice metrics;
    each baseline (name -> scores on the same rows) with its paired interval against the
    challenger."""
    primary = metrics.BINARY_FUNCS[policy.primary_metric]
    baselines = baselines or {}
    first = [champion] if champion is not None else []
    # one set of draws for the champion and every baseline (the challenger's metric once)
    intervals = paired_intervals(
        primary, y, challenger, [*first, *baselines.values()],
        resamples=policy.bootstrap_resamples, confidence=policy.confidence, seed=seed,
    )  # fmt: skip
    interval = intervals[0] if first else None
    measured = [
        BaselineEvidence(name, metrics.binary_metrics(y, scores), iv)
        for (name, scores), iv in zip(baselines.items(), intervals[len(first) :], strict=True)
    ]
    return Evidence(
        baselines=measured,
        primary_metric=policy.primary_metric,
        challenger=metrics.binary_metrics(y, challenger),
        champion=metrics.binary_metrics(y, champion) if champion is not None else None,
        interval=interval,
        fingerprint=fingerprint,
        slices=slice_metrics(policy, slices, y, challenger, champion, seed),
        calibration_error=metrics.calibration_error(y, challenger),
    )


def evaluate_ranking(
    policy: Policy,
    prepared: Prepared,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    baselines: dict[str, np.ndarray],
    item_column: str,
    seed: int,
) -> Evidence:
    """Per-user metrics for challenger, champion and each baseline (scores by name) on the
    same users and candidates; every paired interval resamples users, not rows."""
    truth, groups = prepared.truth, prepared.test_groups
    if truth is None or groups is None:
        raise ValueError("ranking evaluation needs a prepared ranking holdout")
    labels = prepared.test.y
    items = prepared.test_frame[item_column].to_numpy()
    catalog = int(prepared.info.get("catalog_items", 0))

    def score(values: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        per_user = rm.per_user_metrics(groups, values, labels, truth)
        return per_user, rm.summarize(per_user, rm.coverage(groups, values, items, catalog))

    chal_users, chal = score(challenger)
    champ_users, champ = score(champion) if champion is not None else (None, None)
    primary = policy.primary_metric

    def paired(other: np.ndarray) -> Interval:
        return paired_bootstrap(
            rm.weighted_mean,
            np.zeros(len(truth.users)),
            chal_users[primary],
            other,
            resamples=policy.bootstrap_resamples,
            confidence=policy.confidence,
            seed=seed,
            unit="users",
        )

    interval = paired(champ_users[primary]) if champ_users is not None else None
    evidence = []
    for name, values in baselines.items():
        base_users, base = score(values)
        evidence.append(BaselineEvidence(name, base, paired(base_users[primary])))
    users = _user_slices(prepared, groups, len(truth.users))
    slices = [
        SliceMetric(
            primary,
            column,
            value,
            int(mask.sum()),
            float(chal_users[primary][mask].mean()),
            float(champ_users[primary][mask].mean()) if champ_users else None,
        )
        for column, value, mask in users
    ]
    return Evidence(
        primary_metric=primary,
        challenger=chal,
        fingerprint=prepared.fingerprint,
        champion=champ,
        interval=interval,
        slices=slices,
        baselines=evidence,
        info=dict(prepared.info),
    )


def _user_slices(
    prepared: Prepared, groups: np.ndarray, n_users: int
) -> list[tuple[str, str, np.ndarray]]:
    """(column, value, mask over users) for every slice column of the holdout users."""
    out = []
    for column in prepared.slice_columns:
        per_user = np.full(n_users, "unknown", dtype=object)
        per_user[groups] = prepared.test_frame[column].astype(str).to_numpy()
        for value in sorted(set(per_user)):
            out.append((column, str(value), per_user == value))
    return out
