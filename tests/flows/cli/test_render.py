"""What the CLI prints for people: the cost table, metric columns, the quickstart's reasons."""

from __future__ import annotations

import pytest

from flows.cli import render

pytestmark = pytest.mark.unit


def _summary(model: str | None, runs: int, spend: float, promotions: int) -> dict[str, object]:
    return {
        "model": model, "runs": runs, "by_status": {"succeeded": runs - 1, "failed": 1},
        "spend_usd": spend, "on_demand_usd": spend * 3, "savings_usd": spend * 2,
        "promotions": promotions,
        "cost_per_promotion_usd": spend / promotions if promotions else None,
    }  # fmt: skip


def test_cost_is_a_table_with_a_row_per_model_and_a_total() -> None:
    data = {
        **_summary(None, 5, 0.5, 2), "since": None,
        "by_model": [_summary("fraud", 3, 0.3, 2), _summary("recs", 2, 0.2, 0)],
    }  # fmt: skip

    lines = render.cost_text(data).splitlines()

    assert lines[0] == "all models: training runs"
    assert lines[1].split() == [
        "model", "runs", "statuses", "spent", "$", "on-demand", "$", "saved", "$", "promotions",
        "$", "per", "promotion",
    ]  # fmt: skip
    assert lines[2].split()[:3] == ["fraud", "3", "1"] and "2 succeeded" in lines[2]
    assert lines[2].split()[-1] == "0.1500"
    assert lines[3].split()[-1] == "-"  # no promotion: no cost per promotion
    assert lines[4].split()[0] == "total" and "0.5000" in lines[4]
    assert "{" not in render.cost_text(data)  # no Python dict


def test_cost_without_runs_says_none() -> None:
    data = {**_summary("fraud", 0, 0.0, 0), "by_status": {}, "since": "2026-10-01"}

    assert render.cost_text(data) == "fraud since 2026-10-01: training runs\n(none)"


def test_metric_columns_are_the_models_own_primary_first() -> None:
    rows = [{"roc_auc": 0.8, "pr_auc": 0.4, "brier": 0.1}, {"pr_auc": 0.3}]

    columns = render.metric_columns("pr_auc", ("pr_auc", "roc_auc", "log_loss", "brier"), rows)

    assert columns == ["pr_auc", "roc_auc", "brier"]
    assert render.metric_columns("ndcg@10", ("map@10", "ndcg@10"), []) == ["ndcg@10"]


def _trained(estimate: float, reasons: list[str]) -> dict[str, object]:
    return {
        "outcome": "promoted", "version": "v3", "previous_champion": "v2", "reasons": reasons,
        "metrics": {"pr_auc": 0.41}, "champion_metrics": {"pr_auc": 0.42},
        "interval": {"estimate": estimate, "low": estimate - 0.01, "high": estimate + 0.01},
    }  # fmt: skip


def _step(trained: dict[str, object]) -> dict[str, object]:
    ingest = {"dataset": "transactions", "files": [], "version": None}
    return {"days": ["2026-10-05"], "fraud": {"ingest": ingest, "train": trained}}


def test_quickstart_says_why_a_lower_challenger_was_promoted() -> None:
    gate = "non_inferiority: pr_auc improvement -0.0100, 95% CI lower bound -0.0200 > -0.0300"

    text = render.quickstart_step(_step(_trained(-0.01, [gate])))

    assert "fraud: promoted - challenger v3 pr_auc 0.4100 vs champion v2 0.4200" in text
    assert (
        "fraud promoted: lower, but non-inferior: within the policy's margin (pr_auc"
        " improvement -0.0100, 95% CI lower bound -0.0200 > -0.0300)"
    ) in text
    assert "non-inferior" not in render.quickstart_step(_step(_trained(0.01, [gate])))
