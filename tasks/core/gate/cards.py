"""The model card: lineage, parameters, metrics, evidence and the gate's decision (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.specs import ModelSpec
from tasks.core.gate.decision import Decision, Evidence
from tasks.core.train.booster import booster_params
from tasks.core.train.prepared import Prepared


@dataclass(frozen=True)
class Lineage:
    """Where a challenger comes from: its model, spec, inputs and code."""

    model: str
    spec: ModelSpec
    dataset_versions: dict[str, str]
    training_key: str
    code_version: str


def card_metrics(evidence: Evidence) -> dict[str, Any]:
    """The challenger's holdout metrics, each baseline's on the same rows, and the strongest."""
    out: dict[str, Any] = dict(evidence.challenger)
    if evidence.baselines:
        out["baselines"] = {b.name: dict(b.metrics) for b in evidence.baselines}
        strongest = evidence.strongest_baseline()
        if strongest is not None:
            out["strongest_baseline"] = strongest.name
    for key in ("candidate_recall", "candidate_recall_by_source"):
        if key in evidence.info:
            out[key] = evidence.info[key]
    return out


def build_card(
    lineage: Lineage,
    version: str,
    prepared: Prepared,
    training: dict[str, Any],
    evidence: Evidence,
    decision: Decision,
    champion_version: str | None,
    artifacts: dict[str, Any],
    created_at: str,
) -> dict[str, Any]:
    """The card of ``version``; ``training`` holds the run's times, progress and cost."""
    spec = lineage.spec
    return {
        "model": lineage.model,
        "version": version,
        "task": spec.task.value,
        "created_at": created_at,
        "training_key": lineage.training_key,
        "code_version": lineage.code_version,
        "spec_fingerprint": spec.fingerprint(),
        "dataset_versions": lineage.dataset_versions,
        "windows": prepared.windows.to_dict(),
        "rows": prepared.rows,
        "params": booster_params(spec),
        "best_iteration": training.get("best_round"),
        "features": {"spec": spec.features.model_dump(), "encoding": prepared.encoding.to_dict()},
        "metrics": card_metrics(evidence),
        "champion": {"version": champion_version, "metrics": evidence.champion},
        "evaluation": evidence.to_dict(),
        "decision": decision.to_dict(),
        "training": training,
        "artifacts": artifacts,
    }
