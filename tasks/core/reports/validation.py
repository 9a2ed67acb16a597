"""The validation page of one landing file: every check, what it found, example rows (pure).

Written next to the file's ``.validation.json`` so that a person can read why a file was
quarantined (or what was checked on one that was accepted) without parsing JSON.
"""

from __future__ import annotations

import json
from typing import Any

from tasks.core.reports import html


def validation_html(report: dict[str, Any], where: str) -> str:
    """The page for a validation report (``ValidationReport.to_dict()``) of the file ``where``."""
    checks = report.get("checks") or []
    failed = [c for c in checks if not c.get("success")]
    verdict = "accepted" if report.get("success") else "quarantined"
    subtitle = f"{report.get('dataset')}: {verdict}, {report.get('rows', 0):,} rows read"
    refused = not checks and not report.get("success")  # refused before any check ran
    counted = (
        "No check ran (why: below); nothing downstream sees this file."
        if refused
        else f"{len(checks)} check(s), {len(failed)} failed"
        + (": nothing downstream sees this file." if failed else ".")
    )
    summary = [
        html.paragraph(f"File: {where}"),
        html.paragraph(counted, "bad" if failed or refused else "good"),
    ]
    if report.get("extra_columns"):
        summary.append(html.paragraph(f"Extra columns (ignored): {report['extra_columns']}"))
    if report.get("reasons") and not checks:
        summary.append(html.paragraph(f"Why: {report['reasons']}", "bad"))
    sections = [html.section("Outcome", *summary)]
    if checks:
        sections.append(html.section("Every check", _checks(checks)))
    sections += [_examples(c) for c in failed if c.get("examples")]
    return html.page(f"Validation of {where.rsplit('/', 1)[-1]}", subtitle, sections)


def _checks(checks: list[dict[str, Any]]) -> str:
    rows = [
        {
            "check": c.get("check"),
            "column": c.get("column"),
            "passed": bool(c.get("success")),
            "failed": not c.get("success"),
            "unexpected values": c.get("unexpected_count", 0),
            "observed / arguments": c.get("message") or "",
        }
        for c in checks
    ]
    columns = ["check", "column", "passed", "unexpected values", "observed / arguments"]
    return html.table(rows, columns, flag="failed")


def _examples(check: dict[str, Any]) -> str:
    rows = [
        {"row": e.get("row"), "value": json.dumps(e.get("value"), default=str)}
        for e in check["examples"]
    ]
    where = f" on {check['column']}" if check.get("column") else ""
    heading = f"Example rows: {check['check']}{where}"
    note = html.paragraph("Row numbers count data rows from 1 (the header is not a row).")
    return html.section(heading, note, html.table(rows, ["row", "value"]))
