"""JSON that means what it says: every document the system writes in a quickstart-like run
(cards, reports, manifests, pointers, validation results, ``--json`` outputs) holds real
booleans and finite numbers, and every ``--json`` command prints an object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import cli

pytestmark = pytest.mark.integration

STRINGIFIED = {"True", "False", "true", "false", "NaN", "nan", "Infinity", "-Infinity", "inf"}


def _reject_constant(name: str) -> Any:
    raise AssertionError(f"non-finite number {name} in JSON")


def strict_loads(text: str) -> Any:
    """Parse JSON, failing on NaN/Infinity (which Python's json accepts by default)."""
    return json.loads(text, parse_constant=_reject_constant)


def stringified(value: Any, path: str = "$") -> list[str]:
    """Where ``value`` holds a boolean or non-finite number spelled as a string."""
    if isinstance(value, str):
        return [f"{path} = {value!r}"] if value in STRINGIFIED else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in stringified(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in stringified(v, f"{path}[{i}]")]
    return []


def test_the_walk_catches_what_it_should() -> None:
    assert stringified({"checks": [{"passed": "True"}], "ok": True}) == [
        "$.checks[0].passed = 'True'"
    ]
    with pytest.raises(AssertionError, match="NaN"):
        strict_loads('{"value": NaN}')


def cli_json(*args: str) -> Any:
    result = cli(*args, "--json")
    assert result.exit_code == 0, (args, result.output, result.exception)
    doc = strict_loads(result.stdout)
    assert isinstance(doc, dict), f"retrain {' '.join(args)} --json printed {type(doc).__name__}"
    assert not stringified(doc), (args, stringified(doc))
    return doc


def test_every_json_document_of_a_run_is_strict(env: Path, store_root: Path) -> None:
    start = ("--start", "2026-10-01")
    cli_json("data", "generate", "transactions", "--days", "4", "--rows-per-day", "1500", *start,
             "--corrupt", "negative_amount", "--corrupt-day", "1")  # fmt: skip
    cli_json("ingest", "transactions")
    assert cli_json("train", "fraud")["outcome"] == "promoted"
    cli_json("data", "generate", "transactions", "--days", "1", "--rows-per-day", "1500",
             "--start", "2026-10-05")  # fmt: skip
    cli_json("ingest", "transactions")
    second = cli_json("train", "fraud")
    assert second["version"] == "v2"
    assert cli_json("train", "fraud")["outcome"] == "skipped"
    for args in (
        ("champion", "fraud"), ("models", "fraud"), ("history", "fraud"),
        ("datasets", "transactions"), ("verify", "fraud"), ("cost",), ("report", "fraud"),
        ("report", "fraud", "v1"), ("monitor", "fraud"), ("monitor", "fraud", "--history"),
    ):  # fmt: skip
        cli_json(*args)

    documents = sorted(p for p in store_root.rglob("*.json") if not p.name.startswith("."))
    kinds = {p.relative_to(store_root).parts[0] for p in documents}
    assert {"models", "datasets", "reports", "quarantine"} <= kinds, kinds
    names = {p.name for p in documents}
    assert {"card.json", "report.json", "champion.json", "reference.json"} <= names, names
    for path in documents:
        doc = strict_loads(path.read_text(encoding="utf-8"))
        assert not stringified(doc), (path, stringified(doc)[:5])
    card = strict_loads((store_root / "models/fraud/v2/card.json").read_text(encoding="utf-8"))
    assert all(isinstance(c["passed"], bool) for c in card["decision"]["checks"])
