"""Ingestion of a large daily CSV against the bare libraries doing the same work.

In one process, one after the other (so the ratio is robust to a noisy machine):

- flow: the `ingest-dataset` flow for one daily transactions CSV (read, coerce,
  Great Expectations suite, partitions, manifest, registry), run as `retrain ingest` runs
  it (Prefect's temporary API, no heartbeats), after a warm-up run that starts the API and
  after ``--history`` earlier days of the same size (so the commit's key check across
  versions, and the listing of the landing files, meet a dataset that has a past);
- bare: `pyarrow.csv.read_csv` + `pyarrow.parquet.write_table` of the same bytes;
- the stages of the flow's validation, called directly: validation (in batches when the
  file is over RETRAIN_INGEST_WHOLE_MB, as the flow does) and the partitions' Parquet.

Peak RSS is measured in two child processes (one runs the flow, one the bare
libraries), each reporting its RSS after imports and its high-water mark (VmHWM),
next to the file's Arrow size: a high-water mark only grows, so each needs its own
process.

Usage: .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--csv FILE]
       [--history 2] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

DAY = dt.date(2026, 1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the generated day")
    parser.add_argument("--csv", type=Path, help="ingest this transactions CSV instead")
    parser.add_argument(
        "--history", type=int, default=2, help="earlier days of --rows rows ingested first"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--no-rss", action="store_true", help="skip the child processes")
    parser.add_argument("--child", choices=["flow", "bare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    made = _environment()
    try:
        _run(args)
    finally:
        if made is not None:  # the temporary home this run made (every day's partitions)
            shutil.rmtree(made, ignore_errors=True)


def _run(args: argparse.Namespace) -> None:
    csv = args.csv or _generate(args.rows)
    if args.child:
        print(json.dumps(_child(args.child, csv)))
        return
    history = _history(args.history, args.rows)
    report = {
        "file": str(csv),
        "mb": round(csv.stat().st_size / 1e6, 1),
        "history_days": len(history),
        **_timings(csv, history),
    }
    if not args.no_rss:
        for kind in ("bare", "flow"):
            report[f"{kind}_rss"] = _in_child(kind, csv)
        report["flow_peak_over_arrow"] = round(
            report["flow_rss"]["peak_mb"] / report["arrow_mb"], 2
        )
        report["flow_data_rss_over_arrow"] = round(
            (report["flow_rss"]["peak_mb"] - report["flow_rss"]["after_imports_mb"])
            / report["arrow_mb"],
            2,
        )
    report["load"] = os.getloadavg()
    print(json.dumps(report, indent=None if args.json else 1))


def _environment() -> str | None:
    """Settings for the runs; returns the temporary RETRAIN_HOME it made (None: given)."""
    made = None
    if "RETRAIN_HOME" not in os.environ:
        made = os.environ["RETRAIN_HOME"] = tempfile.mkdtemp(prefix="retrain-bench-ingest-")
    os.environ.update(
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        GX_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="ERROR",
    )
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    return made


def _generate(rows: int) -> Path:
    from tasks.samples import sample_files

    path = Path(tempfile.gettempdir()) / f"bench-transactions-{rows}.csv"
    if not path.exists():
        (body,) = sample_files("transactions", 1, DAY, 11, rows_per_day=rows)[DAY].values()
        path.write_bytes(body)
    return path


def _history(days: int, rows: int) -> dict[dt.date, bytes]:
    """``days`` generated days of ``rows`` rows each, just before the measured day."""
    from tasks.samples import sample_files

    if days <= 0:
        return {}
    start = DAY - dt.timedelta(days=days)
    generated = sample_files("transactions", days, start, 7, rows_per_day=rows)
    return {day: body for day, files in generated.items() for body in files.values()}


def _as_the_cli_runs() -> ExitStack:
    """Flow runs as ``retrain ingest`` runs them (flows/cli/app.py ``local_runs``): on
    Prefect's temporary API, without heartbeats (each held a run's end up to a second)."""
    from flows.cli.app import local_runs

    runs = ExitStack()
    runs.enter_context(local_runs())()
    return runs


def _bare(body: bytes) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pacsv.read_csv(pa.BufferReader(body))
    pq.write_table(table, pa.BufferOutputStream(), compression="zstd")
    return table


def _land(body: bytes, day: dt.date) -> None:
    """The file lands (not timed: ingestion starts from a landed file)."""
    from schemas.settings import load_settings
    from tasks.io.landing import write_landing

    write_landing(load_settings(), "transactions", day, {f"transactions-{day}.csv": body})


def _flow() -> dict[str, Any]:
    from flows.ingest_dataset import ingest_dataset
    from schemas.params import IngestParams

    result: dict[str, Any] = ingest_dataset(IngestParams(dataset="transactions"))
    return result


def _timings(csv: Path, history: dict[dt.date, bytes]) -> dict[str, Any]:
    from schemas.contracts import load_contract
    from schemas.settings import load_settings
    from tasks.core.ingest.batches import validate_in_batches
    from tasks.core.ingest.manifests import PartitionWriter, plan_table_partitions
    from tasks.core.ingest.validation import ExpectationRunner, validate_table
    from tasks.samples import sample_files

    body = csv.read_bytes()
    runs = _as_the_cli_runs()
    before = DAY - dt.timedelta(days=len(history) + 1)
    (small,) = sample_files("transactions", 1, before, 3, rows_per_day=500)[before].values()
    _land(small, before)
    _flow()  # warm-up: Prefect's API, GX, imports
    for day, earlier in sorted(history.items()):
        _land(earlier, day)
        (outcome,) = _flow()["files"]
        assert outcome["status"] == "accepted", outcome
    _land(body, DAY)
    start = time.perf_counter()
    result = _flow()
    flow_s = time.perf_counter() - start
    runs.close()
    (outcome,) = result["files"]
    start = time.perf_counter()
    table = _bare(body)
    bare_s = time.perf_counter() - start
    contract, runner = load_contract("transactions"), ExpectationRunner()
    now = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(), dt.UTC)
    validate_table(small, "warm.csv", contract, now, runner=runner)
    batch_bytes = int(load_settings().ingest_batch_mb * 1e6)
    whole_bytes = load_settings().ingest_whole_bytes
    start = time.perf_counter()
    if len(body) > whole_bytes:  # the flow's path for this file: in batches
        writer = PartitionWriter("transactions", "event_time", str(DAY), "u")
        report = validate_in_batches(
            body, "f.csv", contract, now, batch_bytes, writer, runner=runner
        )
        assert report.success, report.summary()
        validate_s = time.perf_counter() - start
        start = time.perf_counter()
        writer.finish()
    else:
        typed, report = validate_table(body, "f.csv", contract, now, runner=runner)
        validate_s = time.perf_counter() - start
        assert typed is not None, report.summary()
        start = time.perf_counter()
        plan_table_partitions(typed, "transactions", "event_time", str(DAY), "u")
    partitions_s = time.perf_counter() - start
    return {
        "rows": table.num_rows,
        "status": outcome["status"],
        "reasons": outcome.get("reasons"),
        "arrow_mb": _typed_mb(body, contract),
        "batches": -(-len(body) // batch_bytes) if len(body) > whole_bytes else None,
        "flow_s": round(flow_s, 2),
        "bare_pyarrow_s": round(bare_s, 2),
        "ratio": round(flow_s / bare_s, 2),
        "flow_rows_per_s": int(table.num_rows / flow_s),
        "stages_s": {"validate": round(validate_s, 2), "partitions": round(partitions_s, 2)},
    }


def _typed_mb(body: bytes, contract: Any) -> float:
    """The file's size in Arrow, in the contract's types (as ingestion holds it)."""
    from tasks.core.ingest.tables import read_csv_fast

    typed = read_csv_fast(body, contract)
    assert typed is not None
    return round(typed[0].nbytes / 1e6, 1)


def _child(kind: str, csv: Path) -> dict[str, Any]:
    import pyarrow  # noqa: F401  (imports before the baseline)

    if kind == "flow":
        import great_expectations  # noqa: F401

        import flows.ingest_dataset  # noqa: F401
    after_imports = _rss_now_mb()
    body = csv.read_bytes()
    if kind == "flow":
        _as_the_cli_runs()
        _land(body, DAY)
        del body
    start = time.perf_counter()
    if kind == "flow":
        _flow()
    else:
        _bare(body)
    seconds = time.perf_counter() - start
    return {"s": round(seconds, 2), "after_imports_mb": after_imports, "peak_mb": _peak_rss_mb()}


def _rss_now_mb(field: str = "VmRSS") -> int:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith(f"{field}:"))
    return round(int(line.split()[1]) / 1024)


def _peak_rss_mb() -> int:
    """This process's RSS high-water mark.

    Linux's ``VmHWM`` where there is one: ``ru_maxrss`` carries the parent's peak
    across fork and exec, so a child started by a big parent would report the parent's.
    """
    try:
        return _rss_now_mb("VmHWM")
    except (OSError, StopIteration):
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _in_child(kind: str, csv: Path) -> dict[str, Any]:
    home = tempfile.mkdtemp(prefix=f"retrain-bench-{kind}-")
    env = {**os.environ, "RETRAIN_HOME": home}
    cmd = [sys.executable, __file__, "--csv", str(csv), "--child", kind]
    try:
        run = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)  # noqa: S603
    finally:
        shutil.rmtree(home, ignore_errors=True)
    out = run.stdout
    child: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return child


if __name__ == "__main__":
    main()
