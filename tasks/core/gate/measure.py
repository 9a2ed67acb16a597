"""Gather the decision's evidence for a challenger, whatever its task (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import lightgbm as lgb
import numpy as np
import pandas as pd

from schemas.specs import Features, ModelSpec, Task
from tasks.core.gate.curves import binary_curves
from tasks.core.gate.decision import Evidence
from tasks.core.gate.evaluation import evaluate_binary, evaluate_ranking
from tasks.core.gate.guards import latency_p99_ms, ranking_churn, robustness_shift
from tasks.core.train import features as feats
from tasks.core.train.booster import predict
from tasks.core.train.linear import NAME as LINEAR
from tasks.core.train.linear import fit_linear_baseline
from tasks.core.train.prepared import Prepared

# Ranking baselines, scored on the holdout's own candidates: (feature, tie-breaker) whose
# value orders each user's list. Recent-positive popularity (items rated relevant within
# ranking.candidates.popularity_days) is the one to beat on sparse, drifting data.
BASELINES = {
    "popularity_all_time": ("log_item_count", "log_item_recent_positive"),
    "popularity_recent_positive": ("log_item_recent_positive", "log_item_count"),
}


@dataclass(frozen=True)
class Scorer:
    """A model with what it needs to score the holdout: its encoding and features spec."""

    booster: lgb.Booster
    encoding: feats.Encoding
    features: Features


def gather_evidence(
    spec: ModelSpec,
    prep: Prepared,
    challenger: Scorer,
    text: str,
    champion: Scorer | None,
    champion_holdout: pd.DataFrame | None = None,
) -> Evidence:
    """Metrics of challenger (and champion) on the same holdout, plus every guard measurement.

    ``champion_holdout``: the holdout rows with the champion's own features built, when its
    builder is not the challenger's (:func:`needs_own_holdout`); else the champion is
    scored on the challenger's holdout frame, which holds every column it reads."""
    robust = spec.policy.guards.robustness
    noise = robust.noise if robust else 0.01
    numeric = len(prep.encoding.numeric)
    if spec.task == Task.RANKING:
        evidence = _ranking(spec, prep, challenger, champion)
        shift = ranking_churn(
            challenger.booster, prep.test.x, _groups(prep), numeric, noise, spec.seed
        )
    else:
        scores = predict(challenger.booster, prep.test.x)  # the holdout matrix was built for it
        evidence = _binary(spec, prep, scores, champion, champion_holdout)
        shift = robustness_shift(
            challenger.booster, prep.test.x, numeric, noise, spec.seed, scores=scores
        )
    return replace(
        evidence,
        latency_p99_ms=latency_p99_ms(challenger.booster, prep.test.x),
        model_bytes=len(text.encode()),
        robustness_shift=shift,
    )


def needs_own_holdout(spec: ModelSpec, champion: Features) -> bool:
    """Whether the champion's features must be built anew for the holdout: its builder
    derives other columns than the challenger's (same builder: only the encoding differs)."""
    return champion.builder != spec.features.builder


def _binary(
    spec: ModelSpec,
    prep: Prepared,
    scores: np.ndarray,
    champ: Scorer | None,
    champ_holdout: pd.DataFrame | None,
) -> Evidence:
    champ_scores = None
    if champ is not None:  # its own encoding of the same rows
        rows = prep.test_frame if champ_holdout is None else champ_holdout
        champ_scores = predict(champ.booster, feats.encode(rows, champ.encoding))
    linear = fit_linear_baseline(
        prep.train, prep.encoding, spec.seed, window_rows=prep.rows["train"]
    )
    baseline = linear.predict(prep.test.x)
    evidence = evaluate_binary(
        spec.policy,
        prep.test.y,
        scores,
        champ_scores,
        prep.test_frame[prep.slice_columns],
        prep.fingerprint,
        spec.seed,
        {LINEAR: baseline},
    )
    named = {"challenger": scores}
    if champ_scores is not None:
        named["champion"] = champ_scores
    curves = binary_curves(prep.test.y, {**named, LINEAR: baseline})
    info = {**evidence.info, "baseline_fit": {LINEAR: linear.describe()}}
    return replace(evidence, curves=curves, info=info)


def _ranking(spec: ModelSpec, prep: Prepared, chal: Scorer, champ: Scorer | None) -> Evidence:
    assert spec.ranking is not None  # noqa: S101 - validated by ModelSpec
    scores = predict(chal.booster, prep.test.x)
    champ_scores = None
    if champ is not None:
        champ_scores = predict(champ.booster, feats.encode(prep.test_frame, champ.encoding))
    return evaluate_ranking(
        spec.policy, prep, scores, champ_scores, baseline_scores(prep.test_frame),
        spec.ranking.item_column, spec.seed,
    )  # fmt: skip


def baseline_scores(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each ranking baseline's score of every candidate row (ties broken by a second signal)."""
    out = {}
    for name, (main, tie) in BASELINES.items():
        values = frame[main].to_numpy(dtype=float)
        out[name] = values + 1e-6 * frame[tie].to_numpy(dtype=float)
    return out


def _groups(prep: Prepared) -> np.ndarray:
    if prep.test_groups is None:
        raise ValueError("ranking holdout without query groups")
    return prep.test_groups
