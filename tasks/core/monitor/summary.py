"""The monitoring run as one JSON document (``retrain monitor --json``, ``report.json``) and
the payloads of the events it emits (pure)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tasks.core.gate.bootstrap import Interval
from tasks.core.monitor.decide import Verdict
from tasks.core.monitor.drift import ColumnDrift, DriftResult
from tasks.core.monitor.performance import Performance

FEATURE_FIELDS = (
    "kind", "statistic", "value", "threshold", "drifted", "status", "reference_rows",
    "current_rows", "reference_null_share", "current_null_share",
)  # fmt: skip


def column_dict(column: ColumnDrift) -> dict[str, Any]:
    """One column's entry: statistic, value, threshold, drifted, and what was compared."""
    data = column.to_dict()
    return {k: data[k] for k in FEATURE_FIELDS}


def monitoring_document(
    model: str,
    champion: str | None,
    dataset_versions: dict[str, str],
    verdict: Verdict,
    drift: DriftResult | None = None,
    performance: Performance | None = None,
    previous: Interval | None = None,
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> dict[str, Any]:
    """Everything one run measured and decided; the fields a run could not measure are
    empty, and ``status`` says why."""
    return {
        "model": model,
        "champion": champion,
        "status": verdict.status,
        "action": verdict.action,
        "reasons": list(verdict.reasons),
        "dataset_versions": dict(dataset_versions),
        "as_of": window[1].isoformat() if window else None,
        "window": {"start": window[0].isoformat(), "end": window[1].isoformat()}
        if window
        else None,
        "drift_detected": bool(drift.drift_detected) if drift else False,
        "drift_share": drift.share if drift else None,
        "drifted_features": drift.drifted_features if drift else [],
        "features": {c.column: column_dict(c) for c in drift.features} if drift else {},
        "prediction": column_dict(drift.score) if drift and drift.score else None,
        "performance": performance.to_dict() if performance else None,
        "previous_champion": previous.to_dict() if previous else None,
        "events": {"drifted": verdict.emit_drifted, "degraded": verdict.emit_degraded},
        "report_uri": None,
    }


def drifted_payload(document: dict[str, Any]) -> dict[str, Any]:
    """``retrain.model.drifted``: the champion, each drifted column with its statistic."""
    columns = [
        *document["features"].items(),
        *([("score", document["prediction"])] if document["prediction"] else []),
    ]
    return {
        "model": document["model"],
        "champion_version": document["champion"],
        "drifted_features": [
            {
                "column": name,
                "statistic": c["statistic"],
                "value": c["value"],
                "threshold": c["threshold"],
            }
            for name, c in columns
            if c["drifted"]
        ],
        "report_uri": document["report_uri"],
    }


def degraded_payload(document: dict[str, Any]) -> dict[str, Any]:
    """``retrain.model.degraded``: the matured-label metric, its interval, the reference
    value and the action taken."""
    perf = document["performance"] or {}
    return {
        "model": document["model"],
        "champion_version": document["champion"],
        "metric": perf.get("metric"),
        "value": perf.get("value"),
        "interval": perf.get("interval"),
        "reference_value": perf.get("reference_value"),
        "action": document["action"],
        "report_uri": document["report_uri"],
    }
