"""The evaluation report of a trained version: written to the store before the decision acts.

``reports/<model>/<version>/report.html`` (self-contained, plots inline) and ``report.json``
(the document the page is drawn from); the card links both under ``artifacts``.
"""

from __future__ import annotations

from typing import Any

from schemas.errors import RetrainError
from schemas.settings import Settings
from tasks.core import layout
from tasks.core.documents import to_json_bytes, to_jsonable
from tasks.core.gate.curves import feature_gain
from tasks.core.reports.evaluation import evaluation_document, evaluation_html
from tasks.io.runtime import runtime
from tasks.io.stores import sha256_hex
from tasks.steps.train import Plan, Trained

REPORT_FILES = ("report.html", "report.json")


def write_evaluation_report(
    plan: Plan, trained: Trained, card: dict[str, Any], curves: dict[str, Any], settings: Settings
) -> dict[str, dict[str, Any]]:
    """Write both files of ``card``'s version; returns their URIs, sha256 and sizes."""
    booster = trained.booster
    importance = feature_gain(
        list(booster.feature_name()), booster.feature_importance(importance_type="gain")
    )
    doc = to_jsonable(evaluation_document(card, curves, importance, _history(plan, settings)))
    files = {"report.html": evaluation_html(doc).encode(), "report.json": to_json_bytes(doc)}
    store, out = runtime(settings).store, {}
    for name, body in files.items():
        info = store.put_bytes(layout.report_key(plan.model, card["version"], name), body)
        out[name] = {"uri": info.uri, "sha256": sha256_hex(body), "bytes": len(body)}
    return out


def report_uri(model: str, version: str, settings: Settings) -> str:
    """The URI of a version's report page (empty when it has none: trained before reports)."""
    store = runtime(settings).store
    key = layout.report_key(model, version, "report.html")
    return store.uri(key) if store.exists(key) else ""


def _history(plan: Plan, settings: Settings) -> list[dict[str, Any]]:
    """Every version registered before this one, oldest first, with its primary metric."""
    metric = plan.spec.policy.primary_metric
    records = runtime(settings).registry.list_model_versions(plan.model)
    return [
        {"version": r.version, "status": r.status, "value": r.metrics.get(metric),
         "created_at": r.created_at}
        for r in sorted(records, key=lambda r: r.seq)
    ]  # fmt: skip


def find_report(model: str, version: str | None, settings: Settings) -> dict[str, Any]:
    """Where the report of ``version`` (default: the newest version) is, and a link to it.

    Raises:
        RetrainError: no such version, or it has no report (trained before reports existed).
    """
    rt = runtime(settings)
    records = rt.registry.list_model_versions(model)
    if not records:
        raise RetrainError(f"model {model} has no trained version yet (run: retrain train {model})")
    if version is None:
        version = max(records, key=lambda r: r.seq).version
    elif version not in {r.version for r in records}:
        known = ", ".join(sorted((r.version for r in records), key=lambda v: int(v[1:])))
        raise RetrainError(f"{model} has no version {version} (versions: {known})")
    keys = {name: layout.report_key(model, version, name) for name in REPORT_FILES}
    if not rt.store.exists(keys["report.html"]):
        raise RetrainError(f"{model} {version} has no evaluation report (trained before reports)")
    html_key = keys["report.html"]
    return {
        "model": model,
        "version": version,
        "html": rt.store.uri(html_key),
        "json": rt.store.uri(keys["report.json"]),
        "link": rt.store.link(html_key, 3600),
        "local_path": _local_path(rt.store.uri(html_key)),
    }


def _local_path(uri: str) -> str | None:
    if not uri.startswith("file://"):
        return None
    from urllib.parse import unquote, urlparse

    return unquote(urlparse(uri).path)
