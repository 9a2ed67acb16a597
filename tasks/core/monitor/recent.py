"""Recent data as the champion sees it: its inputs, its scores, and the matured labels (pure).

Binary models: features are built on the whole dataset version (history features look
back), then the rows newer than the window start are kept; of those, rows older than
``as_of`` minus the label-maturity delay have final labels. The champion scores only what
the statistics use: a seeded sample of ``monitoring.sample_rows`` recent rows (drift) and
one of ``monitoring.max_matured_rows`` matured rows (performance), so monitoring a million
rows costs what monitoring those samples costs. Rankers: the candidates of
the users active in the recent window, labelled by what they went on to do (the newest
interactions are the matured labels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from schemas.specs import ModelSpec
from tasks.core.gate.measure import Scorer
from tasks.core.gate.ranking_metrics import K, per_user_metrics
from tasks.core.monitor.performance import Matured
from tasks.core.sampling import sample_positions
from tasks.core.train import features as feats
from tasks.core.train.booster import predict
from tasks.core.train.candidates import build_window
from tasks.core.train.prepared import score_holdout


@dataclass(frozen=True)
class Recent:
    """The recent window: raw values of every model input, scores, and matured labels.

    ``values`` and ``scores`` may be a seeded sample of the window's rows; ``rows`` counts
    them all.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    rows: int
    values: dict[str, np.ndarray]
    scores: np.ndarray
    matured: Matured
    previous: Matured | None = None  # the previous champion on the same matured rows


def window_start(test_end: pd.Timestamp, as_of: pd.Timestamp, days: float | None) -> pd.Timestamp:
    """After the champion's test window, or only the newest ``days`` when the policy says so."""
    if days is None:
        return test_end
    return max(test_end, as_of - pd.Timedelta(days=days))


def recent_binary(
    frame: pd.DataFrame,
    spec: ModelSpec,
    time_col: str,
    start: pd.Timestamp,
    champion: Scorer,
    previous: Scorer | None = None,
) -> Recent:
    """Rows of ``frame`` (sorted by event time) newer than ``start``, scored by the champion.

    ``values`` and ``scores`` hold the drift sample; ``matured`` the performance sample;
    ``rows`` counts every recent row.
    """
    policy = spec.monitoring
    built = feats.build(frame, champion.features).frame
    times = built[time_col]
    as_of = times.max()
    recent = np.flatnonzero((times > start).to_numpy())
    cutoff = as_of - pd.Timedelta(days=spec.split.label_maturity_days)
    mature = recent[(times.iloc[recent] <= cutoff).to_numpy()]
    total_mature = len(mature)
    drift_rows = recent[sample_positions(len(recent), policy.sample_rows, spec.seed)]
    mature = mature[sample_positions(len(mature), policy.max_matured_rows, spec.seed)]
    scored = np.union1d(drift_rows, mature)  # each sampled row scored once
    sample = built.iloc[scored]
    scores = predict(champion.booster, feats.encode(sample, champion.encoding))
    labels = built[spec.target].to_numpy(dtype=float)[mature]
    matured = Matured(labels, scores[np.searchsorted(scored, mature)], "rows", total_mature)
    prior = None
    if previous is not None and len(mature):
        prior_scores = score_holdout(
            previous.booster, previous.features, previous.encoding, frame, mature
        )
        prior = Matured(labels, prior_scores, "rows", total_mature)
    in_drift = np.searchsorted(scored, drift_rows)
    values = {name: sample[name].to_numpy()[in_drift] for name in champion.encoding.names}
    return Recent(start, as_of, len(recent), values, scores[in_drift], matured, prior)


def recent_ranking(
    frames: dict[str, pd.DataFrame],
    spec: ModelSpec,
    start: pd.Timestamp,
    champion: Scorer,
    previous: Scorer | None = None,
) -> Recent:
    """Candidates of users active after ``start``, their scores and the per-user primary
    metric (NDCG@10 when the primary metric is not a per-user one)."""
    cfg, user = spec.ranking, spec.group_by
    if cfg is None or user is None:
        raise ValueError(f"{spec.name} is not a ranking model")
    events = frames[spec.datasets[0]]
    as_of = events["event_time"].max()
    end = as_of + pd.Timedelta(microseconds=1)
    items, users = frames[cfg.items_dataset], frames[cfg.users_dataset]
    window = build_window(events, items, users, start, end, cfg, user)
    rows = window.frame
    groups = np.searchsorted(window.truth.users, rows[user].astype(str).to_numpy())
    labels = rows["label"].to_numpy(dtype=float)

    def per_user(scorer: Scorer) -> tuple[np.ndarray, np.ndarray]:
        scores = predict(scorer.booster, feats.encode(rows, scorer.encoding))
        metrics = per_user_metrics(groups, scores, labels, window.truth)
        return scores, metrics.get(spec.policy.primary_metric, metrics[f"ndcg@{K}"])

    scores, ndcg = per_user(champion)
    n_users = len(window.truth.users)
    matured = Matured(np.zeros(n_users), ndcg, "users")
    prior = Matured(np.zeros(n_users), per_user(previous)[1], "users") if previous else None
    values = {name: rows[name].to_numpy() for name in champion.encoding.names}
    return Recent(start, as_of, len(rows), values, scores, matured, prior)
