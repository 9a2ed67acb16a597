"""Registry adapter (DESIGN section 5): the SQL model and dataset registry.

SQLite (default) or PostgreSQL behind one API, one module per concern:
``engine.py`` (connections, migrations, transactions), ``datasets.py`` (landing
files, dataset versions), ``models.py`` (model versions, the champion
compare-and-swap, the append-only ledger), ``decisions.py``, ``runs.py``, ``monitoring.py`` and
``reservations.py`` (version numbers taken before any upload).
"""

from __future__ import annotations

from tasks.io.registry.datasets import DatasetRegistry
from tasks.io.registry.decisions import DecisionRegistry
from tasks.io.registry.engine import open_engine
from tasks.io.registry.models import AlreadyRegisteredError, ModelRegistry
from tasks.io.registry.monitoring import MonitoringRegistry
from tasks.io.registry.records import (
    DatasetVersionRecord,
    DecisionRecord,
    FileRecord,
    LedgerEntry,
    ModelVersionRecord,
    MonitoringRecord,
    NewDecision,
    NewFile,
    NewModelVersion,
    ReservationRecord,
    TrainingRunRecord,
)
from tasks.io.registry.reservations import ReservationRegistry
from tasks.io.registry.runs import RunRegistry

__all__ = [
    "AlreadyRegisteredError",
    "DatasetVersionRecord",
    "DecisionRecord",
    "FileRecord",
    "LedgerEntry",
    "ModelVersionRecord",
    "MonitoringRecord",
    "NewDecision",
    "NewFile",
    "NewModelVersion",
    "Registry",
    "ReservationRecord",
    "TrainingRunRecord",
    "open_engine",
]


class Registry(
    DatasetRegistry,
    ModelRegistry,
    DecisionRegistry,
    RunRegistry,
    MonitoringRegistry,
    ReservationRegistry,
):
    """The whole registry: every concern's operations on one database."""
