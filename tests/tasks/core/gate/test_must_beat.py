"""A model whose features carry no signal beyond a linear one: with ``baseline.mode:
must_beat`` the gate rejects it, naming the logistic-regression baseline (trained for real)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from schemas.specs import ModelSpec
from tasks.core.gate.decision import Outcome, decide_promotion
from tasks.core.gate.measure import Scorer, gather_evidence
from tasks.core.train.binary import prepare_binary
from tasks.core.train.prepared import train_model

pytestmark = pytest.mark.unit


def linear_events(rows: int = 9000, seed: int = 5) -> pd.DataFrame:
    """The label is a logistic function of two columns: nothing for trees to add."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(0, 1, rows), rng.normal(0, 1, rows)
    p = 1 / (1 + np.exp(-(-2.5 + 1.2 * x1 - 0.8 * x2)))
    start = pd.Timestamp("2026-10-01", tz="UTC")
    return pd.DataFrame(
        {
            "id": [f"e{i:06d}" for i in range(rows)],
            "event_time": start + pd.to_timedelta(np.sort(rng.uniform(0, 30, rows)), unit="D"),
            "x1": x1,
            "x2": x2,
            "label": (rng.random(rows) < p).astype(int),
        }
    )


def spec(mode: str) -> ModelSpec:
    return ModelSpec.model_validate(
        {
            "name": "linear_only",
            "task": "binary",
            "datasets": ["events"],
            "target": "label",
            "features": {"numeric": ["x1", "x2"]},
            "split": {
                "training_window_days": 20,
                "validation_days": 5,
                "test_days": 5,
                "label_maturity_days": 0,
                "min_rows": 500,
            },
            "lightgbm": {"num_boost_round": 200, "params": {"num_leaves": 31}},
            "policy": {
                "primary_metric": "pr_auc",
                "bootstrap_resamples": 300,
                "floors": {"pr_auc": 0.05},
                "baseline": {"mode": mode, "margin": 0.0},
            },
        }
    )


def test_must_beat_rejects_a_booster_that_adds_nothing_over_a_linear_model() -> None:
    frame = linear_events()
    strict = spec("must_beat")
    prepared = prepare_binary(frame, strict, "event_time", ["id"])
    fitted = train_model(strict, prepared)
    scorer = Scorer(fitted.booster, prepared.encoding, strict.features)

    evidence = gather_evidence(strict, prepared, scorer, fitted.text, None)
    decision = decide_promotion(evidence, strict.policy)

    [linear] = evidence.baselines
    assert linear.name == "logistic_regression" and linear.interval is not None
    assert linear.interval.low < 0  # not significantly better than the linear model
    assert decision.outcome == Outcome.REJECTED
    assert decision.reasons == [r for r in decision.reasons if r.startswith("baseline: ")]
    assert decision.reasons[0].startswith("baseline: adds nothing over logistic_regression:")
    assert set(evidence.curves["pr"]) == {"challenger", "logistic_regression"}

    reported = decide_promotion(evidence, spec("report").policy)
    assert reported.outcome == Outcome.PROMOTED  # the same evidence, only reported
