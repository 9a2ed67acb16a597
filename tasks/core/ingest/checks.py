"""What validation decides about a landing file: one result per check, and the file's report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

MAX_EXAMPLES = 5


@dataclass(frozen=True)
class CheckResult:
    """One check on one file: a coercion step or a GX expectation."""

    check: str
    success: bool
    column: str | None = None
    unexpected_count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    def describe(self) -> str:
        """One line: check, column, count and the first example rows."""
        where = f" on column '{self.column}'" if self.column else ""
        rows = ", ".join(f"row {e['row']}: {_short(e['value'])}" for e in self.examples[:3])
        count = f" ({self.unexpected_count} bad value(s); {rows})" if self.unexpected_count else ""
        extra = f": {self.message}" if self.message else ""
        return f"{self.check}{where}{count}{extra}"


def _short(value: Any) -> str:
    """An example value for one-line messages (compound keys as a tuple)."""
    if isinstance(value, dict):
        return "(" + ", ".join(str(v) for v in value.values()) + ")"
    return repr(value)


@dataclass(frozen=True)
class ValidationReport:
    """Everything decided about one landing file; stored as JSON beside it."""

    file: str
    dataset: str
    success: bool
    rows: int
    checks: list[CheckResult]
    extra_columns: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.success]

    def summary(self) -> str:
        """The failing checks in one line (empty when the file passed)."""
        return "; ".join(c.describe() for c in self.failures)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fail_file(file: str, dataset: str, check: str, message: str) -> ValidationReport:
    """A report for a file that could not even be read as a table."""
    result = CheckResult(check=check, success=False, message=message)
    return ValidationReport(file=file, dataset=dataset, success=False, rows=0, checks=[result])


def plain(value: Any) -> Any:
    """A JSON-friendly version of a cell value."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return value if isinstance(value, int | float | str | bool) else str(value)
