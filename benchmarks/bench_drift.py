"""How often monitoring flags drift, on the project's generator, with the shipped policy.

For each seed: train fraud as the pipeline does on the days before DRIFT_DAY, keep its
reference sample, then monitor each later day on its own (one day of recent data, the
shipped `monitoring:` policy of schemas/models/fraud.yaml). With drift from DRIFT_DAY
(amounts of some categories x1.6, online share +0.3) the drifted columns should be
flagged; without drift (the same seed, no drift), every flag is a false alarm.

Usage: .venv/bin/python benchmarks/bench_drift.py [--seeds 5] [--days 5] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import Counter

import pandas as pd

START, TRAIN_DAYS, ROWS = dt.date(2026, 10, 1), 9, 4000


def flags(seed: int, days: int, drift: bool) -> list[dict[str, bool]]:
    """Per monitored day: each watched column (and the score) -> flagged as drifted."""
    from schemas.specs import load_model_spec
    from tasks.core.gate.measure import Scorer
    from tasks.core.monitor.drift import compare, compare_columns
    from tasks.core.monitor.recent import recent_binary
    from tasks.core.monitor.reference import NUMERIC, reference_profile
    from tasks.core.train.binary import prepare_binary
    from tasks.core.train.prepared import sort_events, train_model
    from tasks.samples import generate_transactions

    spec = load_model_spec("fraud")
    policy = spec.monitoring
    frames = generate_transactions(
        TRAIN_DAYS + days, START, seed, rows_per_day=ROWS,
        drift_from_day=TRAIN_DAYS if drift else None,
    )  # fmt: skip
    frame = sort_events(
        pd.concat(frames.values(), ignore_index=True), "event_time", ["transaction_id"]
    )
    cut = pd.Timestamp(START + dt.timedelta(days=TRAIN_DAYS), tz="UTC")
    prepared = prepare_binary(
        frame[frame["event_time"] < cut], spec, "event_time", ["transaction_id"]
    )
    booster = train_model(spec, prepared).booster
    ref = reference_profile(prepared, booster, policy.reference_rows, seed)
    columns = {
        n: (c["kind"], pd.Series(c["values"], dtype=object).to_numpy())
        for n, c in ref["columns"].items()
    }
    ref_score = pd.Series(ref["score"]).to_numpy()
    champion = Scorer(booster, prepared.encoding, spec.features)
    out = []
    for k in range(days):
        start = cut + pd.Timedelta(days=k)
        day = frame[frame["event_time"] < start + pd.Timedelta(days=1)]
        recent = recent_binary(day, spec, "event_time", start, champion)
        checks = compare_columns(columns, recent.values, policy, seed + k)
        score = compare("score", NUMERIC, ref_score, recent.scores, policy, seed + k)
        out.append({c.column: c.drifted for c in [*checks, score]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--days", type=int, default=5, help="Monitored days after training.")
    parser.add_argument("--json", action="store_true", help="Print one JSON document.")
    args = parser.parse_args()
    report: dict[str, object] = {"seeds": args.seeds, "days_per_seed": args.days}
    for label, drift in (("drifted", True), ("undrifted", False)):
        runs = [day for seed in range(args.seeds) for day in flags(seed, args.days, drift)]
        flagged = Counter(col for run in runs for col, hit in run.items() if hit)
        checks = sum(len(run) for run in runs)
        report[label] = {
            "monitored_days": len(runs),
            "column_checks": checks,
            "flag_rate_by_column": {c: round(flagged[c] / len(runs), 3) for c in sorted(runs[0])},
            "flagged_checks_share": round(sum(flagged.values()) / checks, 4),
        }
    if args.json:
        print(json.dumps(report, indent=1))
        return
    for label in ("drifted", "undrifted"):
        data = report[label]
        assert isinstance(data, dict)
        print(f"{label}: {data['monitored_days']} days, {data['column_checks']} column checks,"
              f" {data['flagged_checks_share']:.2%} flagged")  # fmt: skip
        for column, rate in data["flag_rate_by_column"].items():
            print(f"  {column:<20} flagged on {rate:.0%} of days")


if __name__ == "__main__":
    main()
