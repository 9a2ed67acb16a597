"""The evaluation report of one trained version: its document and its page (pure).

``evaluation_document`` gathers, from the card and what was measured on the holdout, what
a person needs to judge the version (the decision with every check, the metrics of
challenger, champion and baselines, curves, slices, importance, history, cost, lineage);
``evaluation_html`` renders that document, and only it, as a self-contained page.
"""

from __future__ import annotations

from html import escape
from typing import Any

from tasks.core.reports import evaluation_plots as plots
from tasks.core.reports import html

SLICE_COLUMNS = ["column", "value", "metric", "size", "challenger", "champion", "difference",
                 "low", "high", "p_regression"]  # fmt: skip


def evaluation_document(
    card: dict[str, Any],
    curves: dict[str, Any],
    importance: list[dict[str, Any]],
    history: list[dict[str, Any]],
) -> dict[str, Any]:
    """The report's JSON document (``report.json``); the page is drawn from it alone.

    Args:
        card: the version's card (``cards.build_card``).
        curves: PR/ROC/reliability/score distributions (``curves.binary_curves``; ranking: {}).
        importance: features by gain (``curves.feature_gain``).
        history: every registered version before this one, oldest first
            (``version``, ``status``, ``value`` of the primary metric, ``created_at``).
    """
    evaluation = card["evaluation"]
    return {
        "model": card["model"],
        "version": card["version"],
        "task": card["task"],
        "created_at": card["created_at"],
        "primary_metric": evaluation["primary_metric"],
        "decision": card["decision"],
        "champion": card["champion"],
        "strongest_baseline": _strongest(card),
        "evaluation": evaluation,
        "curves": curves,
        "feature_importance": importance,
        "history": history,
        "training": card["training"],
        "lineage": {
            "dataset_versions": card["dataset_versions"],
            "training_key": card["training_key"],
            "code_version": card["code_version"],
            "spec_fingerprint": card["spec_fingerprint"],
            "windows": card["windows"],
            "rows": card["rows"],
            "params": card["params"],
            "best_iteration": card.get("best_iteration"),
        },
    }


def _strongest(card: dict[str, Any]) -> dict[str, Any] | None:
    """The card's strongest baseline with its primary metric and interval against it."""
    name, evaluation = card["metrics"].get("strongest_baseline"), card["evaluation"]
    for base in evaluation.get("baselines") or []:
        if base["name"] == name:
            value = base["metrics"].get(evaluation["primary_metric"])
            return {"name": name, "value": value, "interval": base.get("interval")}
    return None


def evaluation_html(doc: dict[str, Any]) -> str:
    """The whole page of one version's evaluation report."""
    decision = doc["decision"]
    champion = doc["champion"].get("version") or "none"
    title = f"{doc['model']} {doc['version']}: {decision['outcome']}"
    data = ", ".join(f"{d}@{v}" for d, v in doc["lineage"]["dataset_versions"].items())
    subtitle = f"{doc['task']} model; champion compared: {champion}; data {data};"
    subtitle += f" created {doc['created_at']}"
    sections = [_decision(doc), _checks(decision["checks"]), _metrics(doc)]
    if doc["task"] == "binary":
        sections.append(_binary_plots(doc))
    else:
        sections.append(_ranking(doc))
    sections += [_slices(doc), _importance(doc), _history(doc), _lineage(doc)]
    return html.page(title, subtitle, sections)


def _figures(svgs: dict[str, str]) -> str:
    """Plots in a grid, each ``<figure id="plot-...">`` (what a reader or a test can find)."""
    items = "".join(f'<figure id="plot-{escape(k)}">{s}</figure>' for k, s in svgs.items())
    return f'<div class="grid">{items}</div>'


def _interval_text(iv: dict[str, Any] | None) -> str:
    if not iv or iv.get("low") is None or iv.get("high") is None:
        return "no interval"
    pct = round(float(iv["confidence"]) * 100)
    text = f"{iv['estimate']:+.4f}, {pct}% CI [{iv['low']:+.4f}, {iv['high']:+.4f}]"
    if iv.get("sample"):
        sampled, rows = iv["sample"]
        text += f" (bootstrap of {sampled:,} of {rows:,} rows, rescaled)"
    return text


def _decision(doc: dict[str, Any]) -> str:
    decision, evaluation = doc["decision"], doc["evaluation"]
    metric = doc["primary_metric"]
    lines = list(decision["reasons"])
    if evaluation.get("interval"):
        lines.append(f"{metric} challenger - champion {doc['champion']['version']}: "
                     f"{_interval_text(evaluation['interval'])}")  # fmt: skip
    strongest = doc.get("strongest_baseline")
    if strongest:
        lines.append(
            f"strongest baseline {strongest['name']}: {metric} {strongest['value']:.4f};"
            f" challenger - baseline {_interval_text(strongest.get('interval'))}"
        )
    cls = "bad" if decision["outcome"] == "rejected" else "good"
    badge = f'<p><span class="badge {cls}">{escape(decision["outcome"])}</span></p>'
    return html.section("Decision", badge, html.bullets(lines))


def _checks(checks: list[dict[str, Any]]) -> str:
    rows = [
        {
            "check": c["name"],
            "result": "not tested" if not c.get("tested", True) else (
                "passed" if c["passed"] else "FAILED"),
            "value and limit": c["detail"],
            "failed": not c["passed"],
        }
        for c in checks
    ]  # fmt: skip
    failed = sum(not c["passed"] for c in checks)
    summary = f"{len(checks)} checks, {failed} failed"
    return html.section(
        "Checks",
        html.paragraph(summary, "bad" if failed else ""),
        html.table(rows, ["check", "result", "value and limit"], flag="failed"),
    )


def _models(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every model the holdout scored: challenger, champion, baselines (name -> metrics)."""
    evaluation = doc["evaluation"]
    out = {f"challenger {doc['version']}": evaluation["challenger"]}
    if evaluation.get("champion"):
        out[f"champion {doc['champion']['version']}"] = evaluation["champion"]
    for base in evaluation.get("baselines") or []:
        out[f"baseline {base['name']}"] = base["metrics"]
    return out


def _metrics(doc: dict[str, Any]) -> str:
    models = _models(doc)
    names = list(dict.fromkeys(k for m in models.values() for k, v in m.items()
                               if not isinstance(v, dict)))  # fmt: skip
    rows = [{"metric": n, **{model: m.get(n) for model, m in models.items()}} for n in names]
    info = doc["evaluation"].get("info") or {}
    extra = [f"{k}: {html.fmt(v)}" for k, v in info.items() if not isinstance(v, dict | list)]
    measured = [
        f"{label}: {html.fmt(doc['evaluation'].get(key))}"
        for key, label in (("calibration_error", "expected calibration error"),
                           ("latency_p99_ms", "p99 single-row latency (ms)"),
                           ("model_bytes", "model size (bytes)"),
                           ("robustness_shift", "score shift under input noise"))
        if doc["evaluation"].get(key) is not None
    ]  # fmt: skip
    base_rows = [
        {"baseline": b["name"], "challenger - baseline": _interval_text(b.get("interval"))}
        for b in doc["evaluation"].get("baselines") or []
    ]
    parts = [html.table(rows, ["metric", *models])]
    if base_rows:
        parts.append(html.table(base_rows, ["baseline", "challenger - baseline"]))
    parts.append(html.bullets([*measured, *extra]))
    return html.section("Metrics on the holdout", *parts)


def _binary_plots(doc: dict[str, Any]) -> str:
    curves = doc.get("curves") or {}
    if not curves.get("pr"):
        return html.section("Curves", html.paragraph("not measured (one class in the holdout)"))
    pr = {n: (c["recall"], c["precision"]) for n, c in curves["pr"].items()}
    roc = {n: (c["fpr"], c["tpr"]) for n, c in curves["roc"].items()}
    svgs = {
        "pr": plots.curves("Precision-recall", pr, ("recall", "precision")),
        "roc": plots.curves("ROC", roc, ("false positive rate", "true positive rate"), True),
        "reliability": plots.reliability("Reliability diagram", curves["reliability"]),
    }
    hist = curves.get("scores_by_label")
    if hist:
        svgs["scores"] = plots.score_distributions(f"Scores by label ({hist['model']})", hist)
    return html.section("Curves", _figures(svgs))


def _ranking(doc: dict[str, Any]) -> str:
    evaluation, metric = doc["evaluation"], doc["primary_metric"]
    groups = [s for s in evaluation.get("slices") or [] if s["metric"] == metric]
    labels = [f"{s['column']}={s['value']}" for s in groups]
    series: dict[str, list[float | None]] = {"challenger": [s["challenger"] for s in groups]}
    if evaluation.get("champion"):
        series["champion"] = [s.get("champion") for s in groups]
    svgs = {}
    if groups:
        svgs["groups"] = plots.grouped_bars(f"{metric} by user group", labels, series, metric)
    models = _models(doc)
    first = next(iter(models.values()))
    names = [n for n, v in first.items() if not isinstance(v, dict)]
    if names:
        by_model = {m: [vals.get(n) for n in names] for m, vals in models.items()}
        svgs["baselines"] = plots.grouped_bars("Against the baselines", names, by_model, "value")
    recall = (evaluation.get("info") or {}).get("candidate_recall")
    note = f"candidate recall (relevant items the candidate stage kept): {html.fmt(recall)}"
    return html.section("Ranking", html.paragraph(note), _figures(svgs))


def _slices(doc: dict[str, Any]) -> str:
    rows = []
    for s in doc["evaluation"].get("slices") or []:
        champ = s.get("champion")
        diff = s["challenger"] - champ if isinstance(champ, float) and isinstance(
            s["challenger"], float) else None  # fmt: skip
        rows.append({**s, "difference": diff})
    if not rows:
        return html.section("Slices", html.paragraph("no slice configured"))
    note = ("difference = challenger - champion on the slice's rows; [low, high] its paired"
            " bootstrap interval; p_regression the one-sided p-value of a regression beyond"
            " the slice guard's limit (Holm-corrected in the checks above)")  # fmt: skip
    return html.section("Slices", html.paragraph(note), html.table(rows, SLICE_COLUMNS))


def _importance(doc: dict[str, Any]) -> str:
    rows = doc.get("feature_importance") or []
    if not rows:
        return html.section("Feature importance (gain)", html.paragraph("not measured"))
    svg = plots.horizontal_bars(
        "Feature importance (total gain)", [r["feature"] for r in rows], [r["gain"] for r in rows]
    )
    return html.section(
        "Feature importance (gain)",
        _figures({"importance": svg}),
        html.table(rows, ["feature", "gain", "share"]),
    )


def _history(doc: dict[str, Any]) -> str:
    metric = doc["primary_metric"]
    value = doc["evaluation"]["challenger"].get(metric)
    this = {"version": doc["version"], "status": "this version", "value": value,
            "created_at": doc["created_at"]}  # fmt: skip
    runs = [*(doc.get("history") or []), this]
    svg = plots.over_versions(
        f"{metric} on each version's holdout", [r["version"] for r in runs],
        [r.get("value") for r in runs], doc["version"],
    )  # fmt: skip
    note = "each version on its own holdout (the latest data of its run), not the same rows"
    return html.section(
        f"{metric} over versions",
        html.paragraph(note),
        _figures({"history": svg}),
        html.table(runs, ["version", "status", "value", "created_at"]),
    )


def _lineage(doc: dict[str, Any]) -> str:
    training, lineage = doc["training"] or {}, doc["lineage"]
    cost = training.get("cost") or {}
    rows = [
        {"what": k, "value": v if not isinstance(v, dict | list) else _inline(v)}
        for k, v in {
            "wall seconds": training.get("wall_seconds"),
            "CPU seconds": training.get("cpu_seconds"),
            "rounds (best)": f"{training.get('rounds')} ({training.get('best_round')})",
            "resumed from round": training.get("resumed_from_round"),
            "trained on": _engine(training.get("engine")),
            **{f"cost {k}": v for k, v in cost.items()},
            **{k.replace("_", " "): v for k, v in lineage.items()},
        }.items()
    ]
    return html.section("Cost and lineage", html.table(rows, ["what", "value"]))


def _engine(engine: dict[str, Any] | None) -> str:
    """Where the version trained: this machine, or a Dask cluster (workers, scheduler)."""
    if not engine or engine.get("kind") != "dask":
        return "this machine (local)"
    return f"Dask cluster: {engine.get('workers')} workers, scheduler {engine.get('scheduler')}"


def _inline(value: dict[str, Any] | list[Any]) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={html.fmt(v)}" for k, v in value.items())
    return ", ".join(html.fmt(v) for v in value)
