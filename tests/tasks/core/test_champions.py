"""The champion chain a rollback walks back along, and version names as typed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tasks.core.champions import champion_before, champion_chain, version_name

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Entry:
    action: str
    to_version: str | None


def entries(*steps: str) -> list[Entry]:
    """'p v1' promote, 'a v2' approve, 'r v1' rollback, 'x v3' reject."""
    actions = {"p": "promote", "a": "approve", "r": "rollback", "x": "reject"}
    return [Entry(actions[s.split()[0]], s.split()[1]) for s in steps]


@pytest.mark.parametrize(
    ("steps", "chain"),
    [
        ((), []),
        (("p v1", "p v2", "a v3"), ["v1", "v2", "v3"]),
        (("p v1", "p v2", "p v3", "r v2"), ["v1", "v2"]),
        (("p v1", "p v2", "p v3", "r v2", "r v1"), ["v1"]),
        (("p v1", "p v2", "r v1", "r v2"), ["v1", "v2"]),  # forward with --to: pushed again
        (("p v1", "x v2", "p v3"), ["v1", "v3"]),  # a rejection is not a champion
        (("p v1", "p v2", "r v1", "p v3"), ["v1", "v3"]),
    ],
)
def test_the_chain_pops_back_on_rollbacks(steps: tuple[str, ...], chain: list[str]) -> None:
    assert champion_chain(entries(*steps)) == chain


def test_the_champion_before_is_one_step_back_each_time() -> None:
    ledger = entries("p v1", "p v2", "p v3", "r v2")

    assert champion_before(ledger, "v2") == "v1"
    assert champion_before(entries("p v1"), "v1") is None
    assert champion_before(ledger, "v3") is None  # the ledger does not end on v3


@pytest.mark.parametrize(
    ("typed", "name"),
    [("v8", "v8"), ("8", "v8"), ("V12", "v12"), (" 3 ", "v3"), ("v0", None), ("eight", None)],
)
def test_version_names_accept_bare_numbers(typed: str, name: str | None) -> None:
    assert version_name(typed) == name
