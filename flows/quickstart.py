"""``retrain quickstart``: the whole retraining loop on sample data, one line per day and model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flows.ingest_dataset import ingest_dataset
from flows.report import champion_data, gate_text
from flows.retrain_model import retrain_model
from schemas.params import IngestParams, RetrainParams
from schemas.settings import Settings
from tasks import samples
from tasks.errors import RetrainError
from tasks.runtime import runtime

START = dt.date(2026, 10, 1)
BACKFILL_DAYS = 7  # the first step lands this many days at once: enough history to train


@dataclass(frozen=True)
class Pipeline:
    """One model of the demo: its events dataset and the bad file it gets."""

    model: str
    events: str
    corruption: str


PIPELINES = (
    Pipeline("fraud", "transactions", "truncated"),
    Pipeline("recs", "interactions", "duplicate_rows"),
)
SNAPSHOTS = ("items", "users")  # land once, before the events that reference them


def run_quickstart(
    settings: Settings, days: int, seed: int, echo: Callable[[str], None] | None
) -> dict[str, Any]:
    """Generate ``days`` of sample data (a bad file and a drift per model), then ingest and
    retrain every model day by day."""
    say = echo or (lambda _line: None)
    rt = runtime(settings)
    models = ", ".join(p.model for p in PIPELINES)
    say(f"retrain quickstart: {days} days of sample data for {models} (seed {seed})")
    say(
        f"  store:    {rt.settings.object_store_url}\n  registry: {_safe(rt.settings.registry_url)}"
    )
    files = {
        p.events: samples.sample_files(
            p.events,
            days,
            START,
            seed,
            drift_from_day=BACKFILL_DAYS + 1,
            corrupt=p.corruption,
            corrupt_day=BACKFILL_DAYS + 2,
        )
        for p in PIPELINES
    }
    for snapshot in SNAPSHOTS:
        for day, named in samples.sample_files(snapshot, 1, START, seed).items():
            samples.write_landing(settings, snapshot, day, named)
        ingest_dataset(IngestParams(dataset=snapshot))
    all_days = [START + dt.timedelta(days=k) for k in range(days)]
    batches = [all_days[:BACKFILL_DAYS]] + [[d] for d in all_days[BACKFILL_DAYS:]]
    steps = [_step(settings, batch, files, say) for batch in batches]
    champions = {p.model: _champion(settings, p.model) for p in PIPELINES}
    say(_closing(champions))
    return {"steps": steps, "champions": champions}


def _step(
    settings: Settings,
    batch: list[dt.date],
    files: dict[str, samples.Files],
    say: Callable[[str], None],
) -> dict[str, Any]:
    label = batch[0].isoformat() if len(batch) == 1 else f"{batch[0]}..{batch[-1].day:02d}"
    step: dict[str, Any] = {"days": [d.isoformat() for d in batch]}
    for i, p in enumerate(PIPELINES):
        for day in batch:
            samples.write_landing(settings, p.events, day, files[p.events][day])
        ingested = ingest_dataset(IngestParams(dataset=p.events))
        trained = retrain_model(RetrainParams(model=p.model))
        step[p.model] = {"ingest": ingested, "train": trained}
        say(_line(label if i == 0 else "", p, ingested, trained))
    return step


def _line(label: str, p: Pipeline, ingested: dict[str, Any], trained: dict[str, Any]) -> str:
    files = ingested["files"]
    ok = sum(f["status"] == "accepted" for f in files)
    bad = [f for f in files if f["status"] == "quarantined"]
    version = ingested["version"]
    data = f"{p.events}: {ok} ok, {len(bad)} quarantined -> " + (
        f"{version['version']} ({version['rows']:,} rows)" if version else "no new version"
    )
    line = f"[{label:<16}] {data:<52} | {p.model}: {trained['outcome']}"
    if trained["outcome"] != "skipped":
        line += f" - {gate_text(trained)}"
    details = [f"{'':19}quarantined {f['key'].rsplit('/', 1)[-1]}: {f['reasons']}" for f in bad]
    if trained["outcome"] != "promoted":
        details += [f"{'':19}{p.model} {trained['outcome']}: {r}" for r in trained["reasons"]]
    return "\n".join([line, *details])


def _champion(settings: Settings, model: str) -> dict[str, Any] | None:
    try:
        return champion_data(settings, model)
    except RetrainError:
        return None


def _closing(champions: dict[str, dict[str, Any] | None]) -> str:
    lines = [""]
    for model, champion in champions.items():
        if champion is None:
            lines.append(f"{model}: no champion was promoted")
            continue
        metrics = {k: v for k, v in champion["metrics"].items() if isinstance(v, float)}
        shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
        lines.append(f"{model} champion {champion['version']}: {shown}")
        base = champion["metrics"].get("baseline_popularity")
        if base:
            lines.append(
                "  popularity baseline: " + ", ".join(f"{k} {v:.4f}" for k, v in base.items())
            )
        lines += [f"  model: {champion['artifact_uri']}", f"  card:  {champion['card_uri']}"]
    lines.append("next: retrain champion fraud | retrain history recs | retrain verify fraud")
    return "\n".join(lines)


def _safe(url: str) -> str:
    head, sep, tail = url.rpartition("@")
    return f"{head.split('//')[0]}//***@{tail}" if sep else url
