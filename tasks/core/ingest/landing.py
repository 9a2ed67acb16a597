"""Landing files: which keys count, their landing date, and what happened to each (pure)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from tasks.core.ingest.manifests import Partition

_DATE = re.compile(r"/(\d{4}-\d{2}-\d{2})/")
SUFFIXES = {"csv": (".csv",), "parquet": (".parquet", ".pq")}


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one landing file."""

    key: str
    uri: str
    sha256: str
    size: int
    status: str  # accepted | quarantined | duplicate
    rows: int = 0
    reasons: str = ""
    partitions: list[Partition] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view (for reports and --json): details left out but the validation
        page's URI, partitions counted; ``rows`` is the rows read (kept when accepted)."""
        data = asdict(self)
        data.pop("details")
        data["partitions"] = len(self.partitions)
        data["report_uri"] = self.details.get("report_uri")
        return data


def is_landing_file(key: str, fmt: str) -> bool:
    """True for keys with the suffix of the contract's landing format (``csv``, ``parquet``)."""
    return key.lower().endswith(SUFFIXES[fmt])


def landing_date(key: str, now: datetime) -> str:
    """The ``YYYY-MM-DD`` folder a landing key sits in, else the ingestion day."""
    match = _DATE.search("/" + key)
    return match.group(1) if match else now.strftime("%Y-%m-%d")
