"""Dataset contracts (DESIGN section 3): the single source of truth for a dataset.

Dtype coercion and the Great Expectations suite are both derived from a
:class:`DatasetContract`; see ``tasks/core/validation.py``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.errors import SpecError
from schemas.loader import find_spec, load_yaml_model


class Frozen(BaseModel):
    """Base for every spec model: immutable, unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnType(StrEnum):
    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    TIMESTAMP = "timestamp"
    CATEGORY = "category"


class Column(Frozen):
    """One declared column and its checks."""

    type: ColumnType
    nullable: bool = False
    unique: bool = False
    min: float | None = None
    max: float | None = None
    allowed: list[str | int | float | bool] | None = Field(
        default=None, description="Closed set of values; omitted means any value."
    )
    regex: str | None = None
    description: str = ""

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regex: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _bounds_fit_type(self) -> Column:
        numeric = {ColumnType.INT, ColumnType.FLOAT}
        if (self.min is not None or self.max is not None) and self.type not in numeric:
            raise ValueError(f"min/max apply to int and float columns, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class Source(Frozen):
    """Where producers drop files for this dataset."""

    format: Literal["csv", "parquet"] = "csv"
    prefix: str | None = Field(default=None, description="Default: landing/<dataset>/")


class Expectation(Frozen):
    """An extra Great Expectations expectation, in GX's own name and arguments."""

    expectation: str = Field(pattern=r"^expect_[a-z0-9_]+$")
    kwargs: dict[str, Any] = Field(default_factory=dict)


class Reference(Frozen):
    """A foreign key into another dataset's current snapshot, with a tolerance."""

    column: str
    dataset: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    key: str
    max_unknown_share: float = Field(
        default=0.0, ge=0, le=1, description="Share of rows allowed to name unknown keys."
    )


class Limits(Frozen):
    """What a landing file may be before it is read at all."""

    max_file_bytes: int = Field(
        default=4 * 1024**3,
        ge=1,
        description="Landing files larger than this are quarantined by reference: recorded"
        " with a report, never read into memory or copied.",
    )
    max_columns: int | None = Field(
        default=None,
        ge=1,
        description="Most columns a landing file may have (default: 4x the contract's"
        " columns); a wider file is quarantined before it is parsed.",
    )


class DatasetContract(Frozen):
    """A dataset's declared shape, checks and landing source."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    kind: Literal["events", "snapshot"]
    description: str = ""
    columns: dict[str, Column] = Field(min_length=1)
    primary_key: list[str] = Field(default_factory=list)
    event_time: str | None = None
    max_future_skew_hours: float = Field(
        default=24, ge=0, description="Event times later than ingestion time + this are errors."
    )
    source: Source = Source()
    on_duplicate_key: Literal["reject", "replace"] = Field(
        default="reject",
        description="Events with a primary key: a new file repeating a key already in the"
        " dataset is quarantined (reject, naming the key and the earlier file), or its rows"
        " supersede the older ones (replace: late corrections), recorded in the manifest.",
    )
    references: list[Reference] = Field(default_factory=list)
    expectations: list[Expectation] = Field(default_factory=list)
    limits: Limits = Limits()

    @model_validator(mode="after")
    def _references_exist(self) -> DatasetContract:
        for key in [*self.primary_key, *(r.column for r in self.references)]:
            if key not in self.columns:
                raise ValueError(f"column {key!r} is used but not declared in columns")
        if self.kind == "events" and self.event_time is None:
            raise ValueError("events datasets need an event_time column")
        if self.event_time is not None:
            col = self.columns.get(self.event_time)
            if col is None or col.type != ColumnType.TIMESTAMP:
                raise ValueError(f"event_time {self.event_time!r} must be a timestamp column")
            if col.nullable:
                raise ValueError(f"event_time {self.event_time!r} cannot be nullable")
        return self

    @property
    def max_columns(self) -> int:
        """The widest landing file accepted: ``limits.max_columns``, else 4x the contract's."""
        return self.limits.max_columns or 4 * len(self.columns)

    @property
    def landing_prefix(self) -> str:
        prefix = self.source.prefix or f"landing/{self.name}/"
        return prefix if prefix.endswith("/") else prefix + "/"

    def require_event_time(self) -> str:
        """The event-time column, or a SpecError for datasets without one."""
        if self.event_time is None:
            raise SpecError(f"dataset {self.name} has no event_time column: cannot split by time")
        return self.event_time

    def row_keys(self) -> list[str]:
        """Columns identifying a row: the primary key, or every column when there is none."""
        return list(self.primary_key) or list(self.columns)

    @property
    def max_future_skew(self) -> timedelta:
        return timedelta(hours=self.max_future_skew_hours)


def load_contract(name: str, specs_dir: Path | None = None) -> DatasetContract:
    """Load and validate ``datasets/<name>.yaml``.

    Raises:
        SpecError: unknown dataset, invalid YAML, a bad field, or a file whose
            ``name`` does not match its file name.
    """
    path = find_spec("datasets", name, specs_dir)
    contract = load_yaml_model(path, DatasetContract)
    if contract.name != name:
        raise SpecError(f"{path}: field 'name': {contract.name!r} does not match the file name")
    return contract
