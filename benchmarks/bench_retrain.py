"""Overhead of the retraining system against the bare libraries doing the same work.

Measured in one process, one run after the other, so the ratio is robust to a
noisy machine:

- retrain: the whole `retrain-model` flow (plan, load + verify partitions, features,
  training, champion comparison with a paired bootstrap, guards, artifacts, registry)
  against bare `lightgbm.train` on the same prepared matrices with the same parameters;
- ingest: the `ingest-dataset` flow for one daily CSV (read, coerce, Great Expectations
  suite, partitions, manifest, registry) against `pandas.read_csv` + `to_parquet`.

Usage: .venv/bin/python benchmarks/bench_retrain.py [--days 14] [--rows 4000] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--json", action="store_true", help="print one line of JSON")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="retrain-bench-"))
    os.environ.update(
        RETRAIN_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        GX_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="ERROR",
    )
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

    import lightgbm as lgb
    import pandas as pd

    from flows.ingest_dataset import ingest_dataset
    from flows.retrain_model import retrain_model
    from schemas.params import IngestParams, RetrainParams
    from schemas.settings import load_settings
    from schemas.specs import load_model_spec
    from tasks.core.train.binary import prepare_binary
    from tasks.core.train.booster import booster_params
    from tasks.core.train.prepared import sort_events
    from tasks.io.landing import write_landing
    from tasks.samples import sample_files

    settings = load_settings()
    files = sample_files("transactions", args.days, dt.date(2026, 1, 1), 11, rows_per_day=args.rows)
    days = sorted(files)
    for day in days[:-1]:
        write_landing(settings, "transactions", day, files[day])
    ingest_dataset(IngestParams(dataset="transactions"))  # warm-up: starts Prefect's API

    last = files[days[-1]]
    write_landing(settings, "transactions", days[-1], last)
    start = time.perf_counter()
    ingest_dataset(IngestParams(dataset="transactions"))
    ingest_flow = time.perf_counter() - start
    start = time.perf_counter()
    for body in last.values():
        pd.read_csv(io.BytesIO(body)).to_parquet(io.BytesIO())
    ingest_bare = time.perf_counter() - start

    start = time.perf_counter()
    result = retrain_model(RetrainParams(model="fraud"))
    retrain_flow = time.perf_counter() - start

    spec = load_model_spec("fraud")
    frame = pd.concat(
        [
            pd.read_csv(io.BytesIO(b), parse_dates=["event_time"])
            for d in days
            for b in files[d].values()
        ],
        ignore_index=True,
    )
    frame = sort_events(frame, "event_time", ["transaction_id"])
    prepared = prepare_binary(frame, spec, "event_time", ["transaction_id"])
    params = booster_params(spec)
    start = time.perf_counter()
    dtrain = lgb.Dataset(
        prepared.train.x,
        prepared.train.y,
        params=params,
        categorical_feature=prepared.encoding.categorical_indices,
    )
    dvalid = lgb.Dataset(prepared.valid.x, prepared.valid.y, reference=dtrain)
    lgb.train(
        params,
        dtrain,
        num_boost_round=spec.lightgbm.num_boost_round,
        valid_sets=[dvalid],
        callbacks=[lgb.early_stopping(spec.lightgbm.early_stopping_rounds, verbose=False)],
    )
    retrain_bare = time.perf_counter() - start

    report = {
        "rows": len(frame),
        "outcome": result["outcome"],
        "retrain_flow_s": round(retrain_flow, 2),
        "lightgbm_train_s": round(retrain_bare, 2),
        "retrain_ratio": round(retrain_flow / retrain_bare, 1),
        "ingest_flow_s": round(ingest_flow, 2),
        "pandas_csv_to_parquet_s": round(ingest_bare, 3),
        "ingest_ratio": round(ingest_flow / ingest_bare, 1),
        "load": os.getloadavg(),
    }
    print(json.dumps(report, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
