"""Typed errors: each one carries a message fit for a one-line CLI error."""

from __future__ import annotations


class RetrainError(Exception):
    """Base class: the command could not do its job (non-zero exit)."""


class SpecError(RetrainError):
    """A contract or model spec is missing or invalid (names the file and field)."""


class StoreError(RetrainError):
    """The object store is unreachable or refused an operation."""


class ImmutableObjectError(StoreError):
    """An immutable key already holds different content."""


class ConditionFailedError(StoreError):
    """A conditional write found the object changed since it was read (or present/absent)."""


class IntegrityError(StoreError):
    """An object's bytes do not match the sha256 recorded for them."""


class RegistryError(RetrainError):
    """The registry database is unreachable or refused an operation."""


class LostRaceError(RegistryError):
    """A compare-and-swap found a different state than expected (another run moved first)."""


class TrainingInterruptedError(RetrainError):
    """Training stopped on SIGTERM (a spot notice) after writing a checkpoint."""

    def __init__(self, round_: int) -> None:
        super().__init__(
            f"training interrupted by SIGTERM after round {round_}; a checkpoint was saved: "
            "run the same command again to resume"
        )
        self.round = round_
