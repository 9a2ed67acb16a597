"""infra/prices.yaml: the dated price table that cost accounting reads.

Checks the shape and the honesty of the table, not the figures' currency (no network):
every entry has both prices, spot below on-demand, a date and a source saying where to
refresh it; the Fargate task sizes add up from the per-unit rates.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PRICES = ROOT / "infra" / "prices.yaml"


def table() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(PRICES.read_text(encoding="utf-8"))
    return data


ENTRIES = sorted(table()["instance_types"])


def test_table_header_states_currency_status_and_a_known_default() -> None:
    prices = table()
    assert prices["currency"] == "USD"
    assert prices["unit"] == "hour"
    assert prices["status"] == "indicative"  # not verified online: says so
    assert isinstance(prices["compiled_on"], dt.date)
    assert prices["default_instance_type"] in prices["instance_types"]
    header = PRICES.read_text(encoding="utf-8").split("\ncurrency:")[0]
    for page in (
        "aws.amazon.com/ec2/pricing/on-demand",
        "aws.amazon.com/ec2/spot/pricing",
        "aws.amazon.com/fargate/pricing",
        "cloud.google.com/compute/vm-instance-pricing",
        "cloud.google.com/spot-vms/pricing",
    ):
        assert page in header, f"the header should say where to refresh: {page}"


@pytest.mark.parametrize("name", ENTRIES)
def test_every_entry_is_priced_dated_and_sourced(name: str) -> None:
    prices = table()
    entry = prices["instance_types"][name]
    assert set(entry) >= {"provider", "region", "vcpu", "memory_gib", "on_demand", "spot",
                          "as_of", "source"}  # fmt: skip
    for kind in ("on_demand", "spot"):
        assert isinstance(entry[kind], int | float) and entry[kind] > 0, kind
    assert entry["spot"] < entry["on_demand"]
    assert isinstance(entry["as_of"], dt.date)  # a real date, not a string
    assert entry["as_of"] <= prices["compiled_on"]
    assert isinstance(entry["source"], str) and len(entry["source"]) > 20
    assert entry["vcpu"] > 0 and entry["memory_gib"] > 0


def test_fargate_rates_are_dated_and_the_task_sizes_add_up() -> None:
    prices = table()
    fargate = prices["fargate"]
    assert isinstance(fargate["as_of"], dt.date) and fargate["source"]
    for unit in ("per_vcpu_hour", "per_gb_hour"):
        assert 0 < fargate[unit]["spot"] < fargate[unit]["on_demand"]
    sizes = [n for n in ENTRIES if n.startswith("fargate-")]
    assert sizes
    for name in sizes:
        entry = prices["instance_types"][name]
        for kind in ("on_demand", "spot"):
            expected = (
                entry["vcpu"] * fargate["per_vcpu_hour"][kind]
                + entry["memory_gib"] * fargate["per_gb_hour"][kind]
            )
            assert math.isclose(entry[kind], expected, abs_tol=1e-6), (name, kind)


def test_the_instance_types_named_in_the_brief_are_present() -> None:
    names = set(table()["instance_types"])
    assert {"m6i.large", "m6i.xlarge", "c6i.xlarge", "r6i.large", "e2-standard-4"} <= names
