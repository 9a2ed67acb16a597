"""The evaluation report's page, drawn from its document alone: a ranker's sections (pure)."""

from __future__ import annotations

import re
from dataclasses import asdict
from html import unescape
from typing import Any

import pytest

from tasks.core.documents import to_jsonable
from tasks.core.gate.bootstrap import Interval
from tasks.core.gate.decision import BaselineEvidence, Check, Decision, Evidence, Outcome
from tasks.core.gate.decision import SliceMetric as Slice
from tasks.core.reports.evaluation import evaluation_document, evaluation_html

pytestmark = pytest.mark.unit

METRICS = {"ndcg@10": 0.20, "map@10": 0.13, "recall@10": 0.26, "coverage@10": 0.18}


def ranking_card() -> dict[str, Any]:
    evidence = Evidence(
        "ndcg@10", dict(METRICS), "f" * 64, champion={**METRICS, "ndcg@10": 0.19},
        interval=Interval(0.01, 0.004, 0.016, 0.95, 1000, "users"),
        slices=[Slice("ndcg@10", "gender", "F", 400, 0.21, 0.2),
                Slice("ndcg@10", "gender", "M", 380, 0.19, 0.18)],
        baselines=[BaselineEvidence("popularity_recent", {**METRICS, "ndcg@10": 0.16,
                                                          "coverage@10": 0.06})],
        info={"candidate_recall": 0.45, "catalog_items": 1000},
    )  # fmt: skip
    checks = [
        Check("gate", True, "non_inferiority: ndcg@10 improvement +0.0100"),
        Check("slice gender=X", True, "not tested: 3 rows (min_size 100)", tested=False),
    ]
    decision = Decision(Outcome.PROMOTED, ["gate passed"], checks)
    return {
        "model": "recs", "version": "v4", "task": "ranking",
        "created_at": "2026-10-10T00:00:00+00:00",
        "training_key": "k", "code_version": "0.1.0", "spec_fingerprint": "s",
        "dataset_versions": {"interactions": "v4"}, "windows": {}, "rows": {"train": 10},
        "params": {"objective": "lambdarank"}, "best_iteration": 12,
        "metrics": {**METRICS, "strongest_baseline": "popularity_recent"},
        "champion": {"version": "v3", "metrics": evidence.champion},
        "evaluation": evidence.to_dict(),
        "decision": {"outcome": "promoted", "reasons": decision.reasons,
                     "checks": [asdict(c) for c in checks]},
        "training": {"wall_seconds": 3.0, "cost": {"cost_usd": 0.001}},
    }  # fmt: skip


def test_a_rankers_report_shows_groups_baselines_and_candidate_recall() -> None:
    history = [{"version": "v3", "status": "champion", "value": 0.19, "created_at": None}]
    doc = to_jsonable(evaluation_document(ranking_card(), {}, [], history))

    page = evaluation_html(doc)
    text = unescape(page)

    for plot in ("groups", "baselines", "history"):
        assert re.search(rf'<figure id="plot-{plot}"><svg', page), plot
    assert "plot-pr" not in page  # binary curves only
    assert "ndcg@10 by user group" in text and "gender=F" in text
    assert "candidate recall (relevant items the candidate stage kept): 0.45" in text
    assert "<th>baseline popularity_recent</th>" in text
    assert "strongest baseline popularity_recent: ndcg@10 0.1600" in text
    assert "<td>slice gender=X</td><td>not tested</td>" in text
    assert "2 checks, 0 failed" in text
    assert doc["strongest_baseline"]["name"] == "popularity_recent"
    assert "Feature importance (gain)</h2><p>not measured" in text
