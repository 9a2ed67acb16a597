"""Cost of a training run from the dated price table."""

from __future__ import annotations

import pytest

from schemas.errors import SpecError
from tasks.core.costs import PriceTable, run_cost, summarize_runs

TABLE = {
    "default_instance_type": "m6i.large",
    "instance_types": {
        "m6i.large": {"on_demand": 0.096, "spot": 0.036, "as_of": "2024-06-30", "source": "s"},
        "c6i.xlarge": {"on_demand": 0.17, "spot": 0.064, "as_of": "2024-06-30", "source": "s"},
    },
}


def test_spot_hour_costs_the_spot_price_and_reports_the_on_demand_equivalent() -> None:
    cost = run_cost(3600, "spot", "c6i.xlarge", PriceTable.from_dict(TABLE))
    assert cost.cost_usd == pytest.approx(0.064)
    assert cost.on_demand_usd == pytest.approx(0.17)
    assert cost.price_as_of == "2024-06-30"


def test_default_instance_type_and_on_demand_capacity() -> None:
    cost = run_cost(1800, "on-demand", None, PriceTable.from_dict(TABLE))
    assert cost.instance_type == "m6i.large"
    assert cost.cost_usd == pytest.approx(0.048) == cost.on_demand_usd


@pytest.mark.parametrize(
    ("capacity", "instance", "message"),
    [
        ("preemptible", None, "capacity type"),
        ("spot", "x9.huge", "not in the price table"),
    ],
)
def test_unknown_capacity_or_instance_is_refused(
    capacity: str, instance: str | None, message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        run_cost(10, capacity, instance, PriceTable.from_dict(TABLE))


def test_price_table_entry_without_spot_price_is_named() -> None:
    bad = {**TABLE, "instance_types": {"m6i.large": {"on_demand": 1, "as_of": "d", "source": "s"}}}
    with pytest.raises(SpecError, match=r"m6i\.large"):
        PriceTable.from_dict(bad)


def test_shipped_price_table_parses() -> None:
    from schemas.settings import Settings
    from tasks.io.prices import load_price_table

    table = load_price_table(Settings())
    assert table is not None
    assert all(p.spot < p.on_demand for p in table.prices.values())


def test_summary_savings_and_cost_per_promotion() -> None:
    runs = [
        {"status": "succeeded", "cost_usd": 0.01, "details": {"on_demand_usd": 0.03}},
        {"status": "succeeded", "cost_usd": 0.02, "details": {"on_demand_usd": 0.05}},
        {"status": "skipped", "cost_usd": 0.0, "details": {"on_demand_usd": 0.0}},
    ]
    summary = summarize_runs(runs, promotions=2)
    assert summary["spend_usd"] == pytest.approx(0.03)
    assert summary["savings_usd"] == pytest.approx(0.05)
    assert summary["cost_per_promotion_usd"] == pytest.approx(0.015)
    assert summary["by_status"] == {"succeeded": 2, "skipped": 1}
    assert summarize_runs([], 0)["cost_per_promotion_usd"] is None
