"""What a person reads about a run: the ingestion table and the retraining report (pure)."""

from __future__ import annotations

from typing import Any


def _num(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("-" if value is None else str(value))


def ingest_rows(result: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The ingestion run's files as table rows, and a one-line summary of the new version."""
    dataset = result["dataset"]
    rows = [
        {"file": f["key"], "status": f["status"], "rows": f["rows"], "reasons": f["reasons"] or ""}
        for f in result["files"]
    ]
    version = result["version"]
    summary = (
        f"{dataset}: new version {version['version']} ({version['rows']} rows)"
        if version
        else f"{dataset}: no new version"
    )
    return rows or [{"file": "(no new files)"}], summary


def retrain_message(result: dict[str, Any]) -> str:
    """The run's outcome in one line: ``promoted v4: pr_auc +0.0160 [-0.0050, +0.0380]``."""
    outcome, version = result["outcome"], result.get("version")
    if outcome == "skipped" or version is None:
        return f"{outcome}: {'; '.join(result['reasons'])}"
    metric = result.get("primary_metric")
    iv, metrics = result.get("interval"), result.get("metrics") or {}
    text = f"{outcome} {version}"
    if iv and metric:
        text += f": {metric} {iv['estimate']:+.4f} [{iv['low']:+.4f}, {iv['high']:+.4f}]"
    elif metric and isinstance(metrics.get(metric), float):
        text += f": {metric} {metrics[metric]:.4f} (no champion to compare)"
    failed = [c["name"] for c in result.get("checks") or [] if not c["passed"]]
    if failed:
        text += f"; failed: {', '.join(failed)}"
    return text


def ingest_message(result: dict[str, Any]) -> str:
    """The ingestion run in one line: the new version, or that nothing new arrived."""
    files = result["files"]
    ok = sum(f["status"] == "accepted" for f in files)
    bad = sum(f["status"] == "quarantined" for f in files)
    version = result["version"]
    if not files:
        return f"{result['dataset']}: no new files"
    head = f"{version['version']} ({version['rows']:,} rows)" if version else "no new version"
    return f"{result['dataset']} {head}: {ok} accepted, {bad} quarantined"


def check_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every check of the gate: name, passed, what was measured against what limit."""
    return [
        {"check": c["name"], "passed": _passed(c), "detail": c["detail"]}
        for c in result.get("checks") or []
    ]


def _passed(check: dict[str, Any]) -> str:
    if not check.get("tested", True):
        return "not tested"
    return "yes" if check["passed"] else "NO"


def retrain_markdown(result: dict[str, Any], links: dict[str, str] | None = None) -> str:
    """The retraining report: the decision, its reasons, metrics side by side with the
    difference, and where the artifacts are (``links``: name -> markdown to show)."""
    champion_version = result.get("previous_champion") or "-"
    lines = [f"# {result['model']}: {retrain_message(result)}", ""]
    lines += [f"- {r}" for r in result["reasons"]]
    iv = result.get("interval")
    if iv:
        lines += [
            "",
            f"Paired difference (challenger - champion {champion_version}, resampled over"
            f" {iv['unit']}): {iv['estimate']:+.4f}, {round(iv['confidence'] * 100)}% CI "
            f"[{iv['low']:+.4f}, {iv['high']:+.4f}]",
        ]
    metrics, champion = result.get("metrics") or {}, result.get("champion_metrics") or {}
    shown = {k: v for k, v in metrics.items() if not isinstance(v, dict)}
    if shown:
        lines += [
            "",
            f"| metric | challenger {result.get('version') or ''} | champion {champion_version}"
            " | difference |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {k} | {_num(v)} | {_num(champion.get(k))} | {_diff(v, champion.get(k))} |"
            for k, v in shown.items()
        ]
    lines += _ranking_lines(metrics, result.get("primary_metric"))
    datasets = ", ".join(f"{d}@{v}" for d, v in (result.get("dataset_versions") or {}).items())
    lines += ["", f"Champion now: {result.get('champion') or '-'}; data: {datasets or '-'}"]
    lines += [f"- {name}: {text}" for name, text in (links or {}).items()]
    return "\n".join(lines)


def _ranking_lines(metrics: dict[str, Any], primary: str | None) -> list[str]:
    """Each baseline's primary metric against the challenger's, and candidate recall."""
    lines = []
    mine = metrics.get(primary or "")
    for name, base in (metrics.get("baselines") or {}).items():
        theirs = base.get(primary or "")
        if isinstance(mine, float) and isinstance(theirs, float) and theirs > 0:
            ratio = mine / theirs
            lines.append(f"- baseline {name}: {primary} {theirs:.4f} (challenger {ratio:.2f}x)")
    by_source = metrics.get("candidate_recall_by_source") or {}
    if "candidate_recall" in metrics:
        parts = ", ".join(f"{k} {v:.3f}" for k, v in by_source.items())
        lines.append(f"- candidate recall {metrics['candidate_recall']:.3f} ({parts})")
    return ["", *lines] if lines else []


def _diff(value: Any, other: Any) -> str:
    if isinstance(value, float) and isinstance(other, float):
        return f"{value - other:+.4f}"
    return "-"


def monitoring_line(result: dict[str, Any]) -> str:
    """One line: model, champion, status, drifted columns, matured metric, action."""
    perf = result.get("performance") or {}
    drifted = result.get("drifted_features") or []
    score = result.get("prediction") or {}
    parts = [f"{result['model']} {result.get('champion') or '-'}: {result['status']}"]
    named = [*drifted, *(["score"] if score.get("drifted") else [])]
    if named:
        share = result.get("drift_share")
        detail = f"{share:.0%} of tested columns" if share is not None else "share unknown"
        verb = "drift in" if result.get("drift_detected") else "drift below the policy's share in"
        parts.append(f"{verb} {', '.join(named)} ({detail})")
    if perf.get("value") is not None:
        iv = perf.get("interval") or {}
        parts.append(
            f"{perf['metric']} {perf['value']:.4f} [{iv.get('low', float('nan')):.4f},"
            f" {iv.get('high', float('nan')):.4f}] on {perf['rows']} matured"
        )
    parts.append(f"action {result['action']}")
    return "; ".join(parts)


def monitoring_markdown(result: dict[str, Any]) -> str:
    """The monitoring verdict: status, action, every reason, and where the report is."""
    lines = [f"# {result['model']} monitoring: {result['status']}", "", monitoring_line(result), ""]
    lines += [f"- {r}" for r in result.get("reasons") or []]
    if result.get("report_uri"):
        lines += ["", f"Report (self-contained HTML): `{result['report_uri']}`"]
    return "\n".join(lines)


def monitoring_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each watched column and the score: statistic, value, threshold, drifted."""
    columns = dict(result.get("features") or {})
    if result.get("prediction"):
        columns["score"] = result["prediction"]
    return [
        {
            "column": name,
            "statistic": c["statistic"],
            "value": "-" if c["value"] is None else f"{c['value']:.4f}",
            "threshold": c["threshold"],
            "drifted": "yes" if c["drifted"] else "no",
            "status": c["status"],
        }
        for name, c in columns.items()
    ]
