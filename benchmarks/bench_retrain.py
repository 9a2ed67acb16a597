"""Overhead of the retraining system against the bare libraries doing the same work.

Measured in one process, one run after the other, so the ratio is robust to a
noisy machine:

- retrain: the whole `retrain-model` flow (plan, load + verify partitions, features,
  training, champion comparison with a paired bootstrap, guards, artifacts, registry)
  against bare `lightgbm.train` on the same prepared matrices with the same parameters;
- ingest: the `ingest-dataset` flow for one daily CSV (read, coerce, Great Expectations
  suite, partitions, manifest, registry) against `pandas.read_csv` + `to_parquet`.

With ``--dask``, both sides train on the same ``distributed.LocalCluster`` (two workers,
one thread each, on 127.0.0.1): the flow through ``RETRAIN_DASK_ADDRESS`` (the workers read
the partitions, shuffle them by customer and build the matrices), the bare side with
``lightgbm.DaskLGBMClassifier`` on the same matrices, rows split in two blocks, and the
same parameters and rounds (all of them: the Dask interface has no early stopping).

Usage: .venv/bin/python benchmarks/bench_retrain.py [--days 14] [--rows 4000] [--dask] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import shutil
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--json", action="store_true", help="print one line of JSON")
    parser.add_argument("--dask", action="store_true", help="train on a local Dask cluster")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="retrain-bench-"))
    try:
        _measure(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)  # 1M rows of partitions and models


def _measure(args: argparse.Namespace, home: Path) -> None:
    cluster = _local_cluster() if args.dask else None
    os.environ.update(
        RETRAIN_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        GX_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="ERROR",
    )
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    runs = _as_the_cli_runs()

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
    _import_what_the_flow_imports_on_first_use()

    last = files[days[-1]]
    write_landing(settings, "transactions", days[-1], last)
    ingest_flow, ingest_bare = _ingest_times(last)

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
    if cluster is not None:
        retrain_bare = _bare_dask(cluster.scheduler_address, prepared, params, spec)
    else:
        retrain_bare = _bare_local(prepared, params, spec)

    report = {
        "rows": len(frame),
        "engine": "dask (LocalCluster, 2 workers x 1 thread)" if cluster else "local",
        "outcome": result["outcome"],
        "retrain_flow_s": round(retrain_flow, 2),
        "lightgbm_train_s": round(retrain_bare, 2),
        "retrain_ratio": round(retrain_flow / retrain_bare, 2),
        "ingest_flow_s": round(ingest_flow, 2),
        "pandas_csv_to_parquet_s": round(ingest_bare, 3),
        "ingest_ratio": round(ingest_flow / ingest_bare, 1),
        "load": os.getloadavg(),
    }
    runs.close()
    if cluster is not None:
        cluster.close()
    print(json.dumps(report, indent=None if args.json else 1))


def _import_what_the_flow_imports_on_first_use() -> None:
    """Both sides measured warm: lightgbm is imported before either side's clock starts, and
    so are the libraries the flow imports lazily (the report's matplotlib, the linear
    baseline's and curves' scikit-learn): a per-process cost of about 0.6 s, not per row."""
    import matplotlib.figure  # noqa: F401
    import sklearn.linear_model
    import sklearn.metrics  # noqa: F401


def _as_the_cli_runs() -> ExitStack:
    """Flow runs as ``retrain`` commands run them (flows/cli/app.py ``local_runs``): on
    Prefect's temporary API, without heartbeats (each held a run's end up to a second)."""
    from flows.cli.app import local_runs

    runs = ExitStack()
    runs.enter_context(local_runs())()
    return runs


def _local_cluster() -> Any:
    """Two single-threaded workers on 127.0.0.1; the flow finds them by RETRAIN_DASK_ADDRESS.

    Measured warm, as the local side is: the workers import what either side runs there
    (lightgbm, and the code that reads and prepares the partitions: 1.25 s once per worker
    process) before any clock starts, as a long-lived cluster's workers have."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    )
    with Client(cluster) as client:
        client.run(_import_on_a_worker)
    os.environ["RETRAIN_DASK_ADDRESS"] = cluster.scheduler_address
    return cluster


def _import_on_a_worker() -> None:
    import lightgbm  # noqa: F401

    import tasks.io.cluster_data  # noqa: F401


def _ingest_times(last: dict[str, bytes]) -> tuple[float, float]:
    """The ingestion flow on the last day's files, then pandas read + Parquet write of them."""
    import pandas as pd

    from flows.ingest_dataset import ingest_dataset
    from schemas.params import IngestParams

    start = time.perf_counter()
    ingest_dataset(IngestParams(dataset="transactions"))
    flow_s = time.perf_counter() - start
    start = time.perf_counter()
    for body in last.values():
        pd.read_csv(io.BytesIO(body)).to_parquet(io.BytesIO())
    return flow_s, time.perf_counter() - start


def _bare_local(prepared: Any, params: dict[str, Any], spec: Any) -> float:
    import lightgbm as lgb

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
    return time.perf_counter() - start


def _bare_dask(address: str, prepared: Any, params: dict[str, Any], spec: Any) -> float:
    """DaskLGBMClassifier on the same rows (two blocks), parameters and rounds."""
    import dask.array as da
    import lightgbm as lgb
    from distributed import Client

    x, y = prepared.train.x, prepared.train.y
    half = (len(y) + 1) // 2
    with Client(address) as client:
        start = time.perf_counter()
        dx = da.from_array(x, chunks=(half, x.shape[1])).persist()
        dy = da.from_array(y, chunks=half).persist()
        local = {k: v for k, v in params.items() if k != "num_threads"}
        model = lgb.DaskLGBMClassifier(
            client=client, n_estimators=spec.lightgbm.num_boost_round, **local
        )
        model.fit(dx, dy, categorical_feature=prepared.encoding.categorical_indices)
        return time.perf_counter() - start


if __name__ == "__main__":
    main()
