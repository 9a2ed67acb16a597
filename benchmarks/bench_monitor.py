"""What monitoring costs against what retraining costs, at realistic size, in one process.

Lands DAYS days of transactions (ROWS a day) and retrains fraud on them (the
`retrain-model` flow, timed), then lands DAYS more days and monitors the champion on
them (the `monitor-model` flow, timed): drift of every input and the score, the matured-
label metric with its bootstrap interval, the HTML report. Both flows load and verify
every partition and build features on the whole dataset version.

Usage: .venv/bin/python benchmarks/bench_monitor.py [--days 14] [--rows 72000] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--rows", type=int, default=72_000)
    parser.add_argument("--json", action="store_true", help="Print one JSON document.")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="retrain-bench-monitor-"))
    os.environ.update(
        RETRAIN_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="ERROR",
    )
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

    from flows.ingest_dataset import ingest_dataset
    from flows.monitor_model import monitor_model
    from flows.retrain_model import retrain_model
    from schemas.params import IngestParams, MonitorParams, RetrainParams
    from schemas.settings import load_settings
    from tasks.io.landing import write_landing
    from tasks.samples import sample_files

    settings = load_settings()
    files = sample_files(
        "transactions", 2 * args.days, dt.date(2026, 1, 1), 11, rows_per_day=args.rows
    )
    days = sorted(files)
    for day in days[: args.days]:
        write_landing(settings, "transactions", day, files[day])
    ingest_dataset(IngestParams(dataset="transactions"))
    start = time.perf_counter()
    trained = retrain_model(RetrainParams(model="fraud"))
    retrain_s = time.perf_counter() - start

    for day in days[args.days :]:
        write_landing(settings, "transactions", day, files[day])
    ingest_dataset(IngestParams(dataset="transactions"))
    start = time.perf_counter()
    watched = monitor_model(MonitorParams(model="fraud"))
    monitor_s = time.perf_counter() - start

    report = {
        "training_rows": args.days * args.rows,
        "recent_rows": watched["window"]["rows"],
        "retrain_outcome": trained["outcome"],
        "retrain_flow_s": round(retrain_s, 1),
        "monitor_flow_s": round(monitor_s, 1),
        "monitor_over_retrain": round(monitor_s / retrain_s, 3),
        "monitor_status": watched["status"],
        "matured_rows": watched["performance"]["rows"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for key, value in report.items():
            print(f"{key:<22} {value}")


if __name__ == "__main__":
    main()
