"""The monitoring report: what drifted against the champion's reference, the score's
distribution, and the champion's metric on matured labels over time (pure HTML)."""

from __future__ import annotations

from typing import Any

import numpy as np

from schemas.monitoring import P_VALUE_STATISTICS
from tasks.core.reports import html, plots

PLOTTED = 6  # distributions drawn per report: the columns nearest their threshold, drifted first
DRIFT_COLUMNS = [
    "column", "kind", "statistic", "value", "threshold", "drifted", "status",
    "reference_rows", "current_rows", "current_null_share",
]  # fmt: skip


def monitoring_html(
    result: dict[str, Any],
    reference: dict[str, tuple[str, np.ndarray]],
    current: dict[str, np.ndarray],
    history: list[dict[str, Any]],
) -> str:
    """The whole page for one monitoring run.

    Args:
        result: the run's JSON document (``retrain monitor --json``).
        reference: column -> (kind, reference sample values); the score under ``score``.
        current: column -> recent values (a sample), the score under ``score``.
        history: earlier runs of this model, oldest first (``as_of``, ``value``,
            ``interval_low``, ``interval_high``, ``champion_version``).
    """
    title = f"{result['model']} monitoring: {result['status']}"
    window = result.get("window") or {}
    subtitle = (
        f"champion {result.get('champion') or '-'}; recent data {window.get('start', '-')}"
        f" .. {window.get('end', '-')}; data {_versions(result)}; action {result['action']}"
    )
    sections = [html.section("Verdict", html.bullets(result.get("reasons") or []))]
    if result.get("features"):
        sections.append(_drift_section(result))
        sections.append(_distribution_section(result, reference, current))
    sections.append(_performance_section(result, history))
    return html.page(title, subtitle, sections)


def _versions(result: dict[str, Any]) -> str:
    return ", ".join(f"{d}@{v}" for d, v in (result.get("dataset_versions") or {}).items()) or "-"


def _drift_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{"column": name, **info} for name, info in result["features"].items()]
    if result.get("prediction"):
        rows.append({"column": "score", **result["prediction"]})
    return rows


def _drift_section(result: dict[str, Any]) -> str:
    rows = _drift_rows(result)
    drifted = [r["column"] for r in rows if r["drifted"]]
    share = result.get("drift_share")
    summary = (
        f"{len(drifted)} of {len(rows)} columns drifted"
        + (f" ({share:.0%} of those tested)" if share is not None else "")
        + (f": {', '.join(drifted)}" if drifted else "")
    )
    tested = [r for r in rows if r["value"] is not None]
    bars = []
    for statistic in sorted({r["statistic"] for r in tested}):
        same = [r for r in tested if r["statistic"] == statistic]
        bars.append(
            plots.statistic_bars(
                f"{statistic} per column (drifted at the threshold)",
                [r["column"] for r in same],
                [r["value"] for r in same],
                [r["threshold"] for r in same],
            )
        )
    return html.section(
        "Drift per column",
        html.paragraph(summary, "bad" if result.get("drift_detected") else ""),
        html.table(rows, DRIFT_COLUMNS, flag="drifted"),
        html.figures(bars),
    )


def _distribution_section(
    result: dict[str, Any],
    reference: dict[str, tuple[str, np.ndarray]],
    current: dict[str, np.ndarray],
) -> str:
    rows = sorted(
        (r for r in _drift_rows(result) if r["column"] in reference), key=_nearness, reverse=True
    )
    svgs = []
    for row in rows[:PLOTTED]:
        name = row["column"]
        kind, ref = reference[name]
        cur = current.get(name, np.empty(0))
        verdict = "drifted" if row["drifted"] else row["status"]
        svgs.append(plots.distributions(f"{name} ({verdict})", ref, cur, kind))
    note = (
        f"The {PLOTTED} of {len(rows)} columns nearest their threshold (drifted first);"
        " every column's statistic is in the table above."
        if len(rows) > PLOTTED
        else ""
    )
    parts = [html.paragraph(note)] if note else []
    return html.section("Reference against recent data", *parts, html.figures(svgs))


def _nearness(row: dict[str, Any]) -> tuple[bool, float]:
    """Drifted first, then by how near the statistic is to its threshold (1: at it; for a
    p-value, threshold / value); untested columns last."""
    value, threshold = row.get("value"), row.get("threshold")
    if value is None or not threshold:
        return bool(row["drifted"]), -1.0
    if row.get("statistic") in P_VALUE_STATISTICS:
        return bool(row["drifted"]), float(threshold / max(value, 1e-300))
    return bool(row["drifted"]), float(value / threshold)


def _performance_section(result: dict[str, Any], history: list[dict[str, Any]]) -> str:
    perf = result.get("performance") or {}
    if not perf:
        return html.section("Matured labels", html.paragraph("not measured"))
    iv = perf.get("interval") or {}
    rows = [
        {
            "metric": perf.get("metric"), "rows": perf.get("rows"), "value": perf.get("value"),
            "low": iv.get("low"), "high": iv.get("high"),
            "champion holdout": perf.get("reference_value"), "floor": perf.get("floor"),
            "relative limit": perf.get("relative_limit"), "degraded": perf.get("degraded"),
        }
    ]  # fmt: skip
    runs = [*history, {"as_of": result.get("as_of"), "value": perf.get("value"),
                       "interval_low": iv.get("low"), "interval_high": iv.get("high"),
                       "champion_version": result.get("champion")}]  # fmt: skip
    limits = {
        name: value
        for name, value in (
            ("floor", perf.get("floor")),
            ("relative limit", perf.get("relative_limit")),
        )
        if value is not None
    }
    over_time = plots.metric_over_time(
        f"{perf.get('metric')} on matured labels, run by run",
        [f"{str(r.get('as_of') or '-')[:10]} {r.get('champion_version') or ''}" for r in runs],
        [r.get("value") for r in runs],
        [r.get("interval_low") for r in runs],
        [r.get("interval_high") for r in runs],
        limits,
    )
    return html.section(
        "Matured labels",
        html.paragraph(perf.get("reason", ""), "bad" if perf.get("degraded") else ""),
        html.table(rows, list(rows[0]), flag="degraded"),
        html.figures([over_time]),
    )
