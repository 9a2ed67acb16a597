"""The retraining report a person reads: ranking baselines and candidate recall."""

from __future__ import annotations

import pytest

from tasks.core.summaries import retrain_markdown

pytestmark = pytest.mark.unit


def test_report_shows_each_baseline_ratio_and_recall_per_source() -> None:
    result = {
        "model": "recs", "outcome": "promoted", "version": "v2", "reasons": ["ok"],
        "primary_metric": "ndcg@10",
        "metrics": {
            "ndcg@10": 0.22,
            "baselines": {"popularity_recent_positive": {"ndcg@10": 0.2}},
            "candidate_recall": 0.71,
            "candidate_recall_by_source": {"recent_positive": 0.3, "covisit": 0.5},
        },
    }  # fmt: skip
    text = retrain_markdown(result)
    assert "- baseline popularity_recent_positive: ndcg@10 0.2000 (challenger 1.10x)" in text
    assert "- candidate recall 0.710 (recent_positive 0.300, covisit 0.500)" in text


def test_binary_report_has_no_ranking_lines() -> None:
    result = {"model": "fraud", "outcome": "promoted", "version": "v2", "reasons": ["ok"],
              "primary_metric": "pr_auc", "metrics": {"pr_auc": 0.5}}  # fmt: skip
    assert "candidate recall" not in retrain_markdown(result)
