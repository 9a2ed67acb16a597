"""What a training run cost, from a dated price table (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.errors import SpecError

CAPACITY_TYPES = ("spot", "on-demand")


@dataclass(frozen=True)
class Price:
    """USD per instance-hour, with the date and source of the figures."""

    on_demand: float
    spot: float
    as_of: str
    source: str


@dataclass(frozen=True)
class PriceTable:
    prices: dict[str, Price]
    default_instance_type: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PriceTable:
        """Parse infra/prices.yaml's shape; SpecError naming the entry when a field is missing."""
        prices = {}
        for name, entry in (data.get("instance_types") or {}).items():
            try:
                prices[name] = Price(
                    float(entry["on_demand"]),
                    float(entry["spot"]),
                    str(entry["as_of"]),
                    str(entry["source"]),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise SpecError(
                    f"price table: instance type {name!r}: bad or missing {exc}"
                ) from exc
        default = str(data.get("default_instance_type", ""))
        if default not in prices:
            raise SpecError(f"price table: default_instance_type {default!r} has no prices")
        return cls(prices, default)


@dataclass(frozen=True)
class RunCost:
    capacity_type: str
    instance_type: str
    cost_usd: float
    on_demand_usd: float  # what the same run would cost on on-demand capacity
    price_as_of: str


def run_cost(
    wall_seconds: float, capacity_type: str, instance_type: str | None, table: PriceTable
) -> RunCost:
    """Cost of ``wall_seconds`` on one instance, and its on-demand equivalent.

    Raises:
        SpecError: unknown capacity type or instance type (the message lists the known ones).
    """
    if capacity_type not in CAPACITY_TYPES:
        raise SpecError(f"capacity type {capacity_type!r}: use one of {', '.join(CAPACITY_TYPES)}")
    name = instance_type or table.default_instance_type
    if name not in table.prices:
        raise SpecError(
            f"instance type {name!r} is not in the price table "
            f"(known: {', '.join(sorted(table.prices))})"
        )
    price, hours = table.prices[name], wall_seconds / 3600
    hourly = price.spot if capacity_type == "spot" else price.on_demand
    return RunCost(capacity_type, name, hours * hourly, hours * price.on_demand, price.as_of)


def summarize_runs(runs: list[dict[str, Any]], promotions: int) -> dict[str, Any]:
    """Spend, on-demand equivalent, savings and cost per promotion over training runs."""
    spend = sum(r.get("cost_usd") or 0.0 for r in runs)
    on_demand = sum((r.get("details") or {}).get("on_demand_usd") or 0.0 for r in runs)
    by_status: dict[str, int] = {}
    for r in runs:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    return {
        "runs": len(runs),
        "by_status": by_status,
        "spend_usd": spend,
        "on_demand_usd": on_demand,
        "savings_usd": on_demand - spend,
        "promotions": promotions,
        "cost_per_promotion_usd": spend / promotions if promotions else None,
    }
