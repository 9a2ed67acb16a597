"""The champion chain read from the promotion ledger, and version names as people type them.

A rollback goes back along the chain: promotions and approvals push a champion, a
rollback to a champion on the chain pops back to it. So rolling back twice restores the
champion before the one before, instead of toggling between the last two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

CROWNING = ("promote", "approve", "rollback")
_NAME = re.compile(r"^[vV]?([1-9][0-9]*)$")


class Crowning(Protocol):
    """What a ledger entry says about the champion (``LedgerEntry`` has these)."""

    @property
    def action(self) -> str: ...  # pragma: no cover - a protocol

    @property
    def to_version(self) -> str | None: ...  # pragma: no cover - a protocol


def champion_chain(entries: Iterable[Crowning]) -> list[str]:
    """The champions in force, oldest first, the current one last.

    A promotion or approval appends its version; a rollback to a version on the chain
    drops everything after it (a rollback to one not on it, ``--to`` forward, appends it).
    Rejections do not touch the chain.
    """
    chain: list[str] = []
    for entry in entries:
        version = entry.to_version
        if entry.action not in CROWNING or version is None:
            continue
        if entry.action == "rollback" and version in chain:
            del chain[len(chain) - chain[::-1].index(version) :]
        else:
            chain.append(version)
    return chain


def champion_before(entries: Iterable[Crowning], current: str) -> str | None:
    """The champion a rollback without a target restores: the one before ``current``."""
    chain = champion_chain(entries)
    if not chain or chain[-1] != current or len(chain) < 2:
        return None
    return chain[-2]


def version_name(text: str) -> str | None:
    """``v8`` for ``v8``, ``V8`` or ``8``; None for anything that is not a version name."""
    found = _NAME.match(text.strip())
    return f"v{found.group(1)}" if found else None
