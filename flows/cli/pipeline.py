"""Commands that run the pipeline: sample data, ingest, train, approve, quickstart."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

import typer

from flows.cli import render
from flows.cli.app import (
    JsonOpt,
    app,
    data_app,
    emit,
    known_dataset,
    known_model,
    local_runs,
    quiet_prefect,
    read_only,
    settings,
    spec_app,
    verbose_libraries,
)


@data_app.command("generate")
def data_generate(
    dataset: Annotated[str, typer.Argument(help="transactions, interactions, items or users.")],
    days: Annotated[int, typer.Option(min=1, max=366, help="Number of daily files.")] = 14,
    start: Annotated[
        dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="First day.")
    ] = dt.datetime(2026, 10, 1),
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 7,
    rows_per_day: Annotated[
        int | None, typer.Option(min=10, max=1_000_000, help="Rows per daily file.")
    ] = None,
    drift_day: Annotated[
        int | None, typer.Option(help="0-based day from which the data drifts.")
    ] = None,
    corrupt: Annotated[
        str | None, typer.Option(help="Also write one bad file of this kind.")
    ] = None,
    corrupt_day: Annotated[
        int | None, typer.Option(help="0-based day of the bad file (default last).")
    ] = None,
    profile: Annotated[
        str,
        typer.Option(
            help="dense: daily demo files; sparse (interactions, items, users): one file a"
            " week over DAYS days, users with few ratings, a long-tail catalogue, taste drift."
        ),
    ] = "dense",
    as_json: JsonOpt = False,
) -> None:
    """Write realistic landing files (landing/DATASET/YYYY-MM-DD/...)."""
    from tasks.steps.samples import corruption_kinds, land_sample_files

    known_dataset(settings(), dataset)
    kinds = corruption_kinds(dataset)
    if corrupt is not None and corrupt not in kinds:
        raise typer.BadParameter(f"unknown kind {corrupt!r} for {dataset}: use {', '.join(kinds)}")
    uris = land_sample_files.fn(
        dataset, days, start.date(), seed, settings(), rows_per_day, drift_day, corrupt,
        corrupt_day, profile,
    )  # fmt: skip
    emit(
        {"dataset": dataset, "files": uris},
        as_json,
        f"wrote {len(uris)} file(s): {uris[0]} ... {uris[-1]}",
    )


@app.command()
def ingest(
    dataset: Annotated[str, typer.Argument(help="Dataset contract name, e.g. transactions.")],
    as_json: JsonOpt = False,
) -> None:
    """Validate new landing files into a new dataset version; quarantine bad ones.

    Files already ingested (same URI and sha256) are skipped, so re-running is safe.
    """
    from schemas.contracts import load_contract
    from schemas.params import IngestParams

    load_contract(dataset, settings().specs_dir)
    with local_runs() as api_ready:
        from flows.ingest_dataset import ingest_dataset  # imported while the API starts

        api_ready()
        result = ingest_dataset(IngestParams(dataset=dataset))
    emit(result, as_json, render.ingest_text(result))


@app.command()
def train(
    model: Annotated[str, typer.Argument(help="Model spec name, e.g. fraud.")],
    dataset_version: Annotated[
        str | None, typer.Option(help="Train on this version (default latest).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Retrain MODEL, compare it with the champion on the same holdout, decide, and promote."""
    from schemas.params import RetrainParams
    from schemas.specs import load_model_spec

    load_model_spec(model, settings().specs_dir)
    with local_runs() as api_ready:
        from flows.retrain_model import retrain_model  # imported while the API starts

        api_ready()
        result = retrain_model(RetrainParams(model=model, dataset_version=dataset_version))
    emit(result, as_json, render.train_text(result))


@app.command()
def approve(
    model: Annotated[str, typer.Argument()],
    version: Annotated[str, typer.Argument(help="The version waiting for approval.")],
    by: Annotated[str, typer.Option("--by", help="Who answers (kept in the ledger).")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of approve.")] = False,
    comment: Annotated[str, typer.Option(help="Why (kept in the ledger).")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Approve (promote) or reject a version whose policy requires approval."""
    from tasks.steps.publish import resolve_approval

    current = settings()
    known_model(current, model)
    read_only(current)
    answer = {"approve": not reject, "approver": by, "comment": comment}
    result = asdict(resolve_approval.fn(model, version, answer, current))
    emit(result, as_json, render.train_text(result))


@app.command()
def quickstart(
    days: Annotated[int, typer.Option(min=8, max=60, help="Days of sample data.")] = 11,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Show Prefect's task logs and the libraries' INFO."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run the whole loop on sample data: ingest, validate, retrain, gate, promote.

    Generates DAYS of transactions and interactions (plus item and user
    snapshots) with one bad file and a drift per model, then runs ingestion
    and retraining day by day for fraud and recs, one line per day and model.
    """
    from schemas.params import QuickstartParams

    with local_runs() as api_ready:
        from flows.quickstart import quickstart as run_quickstart  # while the API starts
        from tasks.io.runtime import preload_libraries
        from tasks.steps.samples import PIPELINES

        if verbose:
            verbose_libraries()
        else:
            quiet_prefect()
        current = settings()
        if not as_json:
            models = [p.model for p in PIPELINES]
            store, registry = current.object_store_url, current.registry_url
            typer.echo(render.quickstart_header(days, seed, models, store, registry))
        on_step = None if as_json else (lambda step: typer.echo(render.quickstart_step(step)))
        preload_libraries()  # while the API starts
        api_ready()
        summary = run_quickstart(QuickstartParams(days=days, seed=seed), on_step)
    if as_json:
        emit(summary, True, "")
    else:
        typer.echo(render.quickstart_closing(summary["champions"]))


@app.command()
def monitor(
    model: Annotated[str, typer.Argument(help="Model spec name, e.g. fraud.")],
    history: Annotated[
        bool, typer.Option("--history", help="List past monitoring runs instead of running one.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Watch MODEL's champion: drift of its inputs and score against its reference, and its
    primary metric on rows whose labels have matured; then act as its policy says.

    Drift beyond policy emits retrain.model.drifted (at most once per cooldown), which
    starts the retraining deployment; degradation emits retrain.model.degraded and, with
    monitoring.on_degradation: rollback, restores the previous champion when it scores
    significantly better on the same rows. The HTML report's path is printed.
    """
    from schemas.specs import load_model_spec

    load_model_spec(model, settings().specs_dir)
    if history:
        from tasks.io import catalog

        read_only(settings())
        rows = catalog.monitoring_data(settings(), model)
        emit({"model": model, "runs": rows}, as_json, render.monitoring_history_text(model, rows))
        return
    from schemas.params import MonitorParams

    with local_runs() as api_ready:
        from flows.monitor_model import monitor_model  # imported while the API starts

        api_ready()
        result = monitor_model(MonitorParams(model=model))
    emit(result, as_json, render.monitor_text(result))


@spec_app.command("check")
def spec_check(
    model: Annotated[str, typer.Argument(help="Model spec name, e.g. recs.")],
    as_json: JsonOpt = False,
) -> None:
    """Do MODEL's windows fit the current data? Rows and query groups in each window,
    whether split.min_rows holds, and windows that would (read-only)."""
    from schemas.specs import load_model_spec
    from tasks.steps.specs import check_model_windows, describe

    load_model_spec(model, settings().specs_dir)
    report = check_model_windows.fn(model, settings())
    head = f"{model} on " + ", ".join(f"{d}@{v}" for d, v in report["dataset_versions"].items())
    text = f"{head}: {report['waiting']}" if "waiting" in report else f"{head}\n{describe(report)}"
    emit(report, as_json, text)
