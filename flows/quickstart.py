"""``retrain quickstart``: the whole retraining loop on sample data, one line per day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flows.ingest_dataset import ingest_dataset
from flows.report import gate_text
from flows.retrain_model import retrain_model
from schemas.params import IngestParams, RetrainParams
from schemas.settings import Settings
from tasks import samples
from tasks.runtime import runtime

START = dt.date(2026, 10, 1)
BACKFILL_DAYS = 6  # the first step lands this many days at once: enough history to train
CORRUPTION = "truncated"


def run_quickstart(
    settings: Settings, days: int, seed: int, echo: Callable[[str], None] | None
) -> dict[str, Any]:
    """Generate ``days`` of transactions (a bad file, a drift); ingest and retrain day by day."""
    say = echo or (lambda _line: None)
    rt = runtime(settings)
    say(f"retrain quickstart: {days} days of sample transactions (seed {seed})")
    say(
        f"  store:    {rt.settings.object_store_url}\n  registry: {_safe(rt.settings.registry_url)}"
    )
    files = samples.transaction_files(
        days,
        START,
        seed,
        drift_from_day=BACKFILL_DAYS + 1,
        corrupt=CORRUPTION,
        corrupt_day=BACKFILL_DAYS + 2,
    )
    all_days = sorted(files)
    batches = [all_days[:BACKFILL_DAYS]] + [[d] for d in all_days[BACKFILL_DAYS:]]
    steps = []
    for batch in batches:
        for day in batch:
            samples.write_landing(settings, "transactions", day, files[day])
        ingested = ingest_dataset(IngestParams(dataset="transactions"))
        trained = retrain_model(RetrainParams(model="fraud"))
        steps.append({"days": [d.isoformat() for d in batch], "ingest": ingested, "fraud": trained})
        say(_day_line(batch, ingested, trained))
    summary = {"steps": steps, "champion": _champion(settings)}
    say(_closing(summary["champion"]))
    return summary


def _day_line(batch: list[dt.date], ingested: dict[str, Any], trained: dict[str, Any]) -> str:
    label = batch[0].isoformat() if len(batch) == 1 else f"{batch[0]}..{batch[-1].day:02d}"
    files = ingested["files"]
    ok = sum(f["status"] == "accepted" for f in files)
    bad = [f for f in files if f["status"] == "quarantined"]
    version = ingested["version"]
    data = f"transactions: {ok} accepted, {len(bad)} quarantined -> " + (
        f"{version['version']} ({version['rows']:,} rows)" if version else "no new version"
    )
    line = f"[{label:<16}] {data} | fraud: {trained['outcome']}"
    if trained["outcome"] != "skipped":
        line += f" - {gate_text(trained)}"
    details = [f"    quarantined {f['key'].rsplit('/', 1)[-1]}: {f['reasons']}" for f in bad]
    if trained["outcome"] != "promoted":
        details += [f"    fraud {trained['outcome']}: {r}" for r in trained["reasons"]]
    return "\n".join([line, *details])


def _champion(settings: Settings) -> dict[str, Any] | None:
    from flows.report import champion_data
    from tasks.errors import RetrainError

    try:
        return champion_data(settings, "fraud")
    except RetrainError:
        return None


def _closing(champion: dict[str, Any] | None) -> str:
    if champion is None:
        return "no champion was promoted"
    metrics = ", ".join(f"{k} {v:.4f}" for k, v in champion["metrics"].items() if v is not None)
    return (
        f"\nfraud champion: {champion['version']} ({metrics})\n"
        f"  model: {champion['artifact_uri']}\n  card:  {champion['card_uri']}\n"
        "next: retrain history fraud | retrain models fraud | retrain verify fraud"
    )


def _safe(url: str) -> str:
    head, sep, tail = url.rpartition("@")
    return f"{head.split('//')[0]}//***@{tail}" if sep else url
