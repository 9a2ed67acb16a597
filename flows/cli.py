"""The ``retrain`` command line (DESIGN section 9).

Commands print human-readable lines; ``--json`` prints one JSON document.
Exit 0 when the command did its job (a quarantined file or a rejected
challenger is a normal outcome); exit 1 with a one-line error otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import asdict
from typing import Annotated, Any

import typer

from flows import report

app = typer.Typer(
    name="retrain",
    help="Automatic, auditable retraining of LightGBM models:"
    " ingest, validate, train, gate, promote.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Sample data for trying the system.", no_args_is_help=True)
app.add_typer(data_app, name="data")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]


def _settings() -> Any:
    from schemas.settings import load_settings

    return load_settings()


def _emit(data: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, indent=1, default=str) if as_json else text)


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
    as_json: JsonOpt = False,
) -> None:
    """Write realistic daily landing files (landing/DATASET/YYYY-MM-DD/...)."""
    from tasks import samples

    kinds = samples.corruption_kinds(dataset)
    if corrupt is not None and corrupt not in kinds:
        raise typer.BadParameter(f"unknown kind {corrupt!r} for {dataset}: use {', '.join(kinds)}")
    settings = _settings()
    files = samples.sample_files(
        dataset, days, start.date(), seed, rows_per_day, drift_day, corrupt, corrupt_day
    )
    uris = [
        u
        for day, named in files.items()
        for u in samples.write_landing(settings, dataset, day, named)
    ]
    _emit(
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
    from flows.ingest_dataset import ingest_dataset
    from schemas.contracts import load_contract
    from schemas.params import IngestParams

    load_contract(dataset, _settings().specs_dir)
    result = ingest_dataset(IngestParams(dataset=dataset))
    _emit(result, as_json, report.ingest_text(result))


@app.command()
def train(
    model: Annotated[str, typer.Argument(help="Model spec name, e.g. fraud.")],
    dataset_version: Annotated[
        str | None, typer.Option(help="Train on this version (default latest).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Retrain MODEL, compare it with the champion on the same holdout, decide, and promote."""
    from flows.retrain_model import retrain_model
    from schemas.params import RetrainParams
    from schemas.specs import load_model_spec

    load_model_spec(model, _settings().specs_dir)
    result = retrain_model(RetrainParams(model=model, dataset_version=dataset_version))
    _emit(result, as_json, report.train_text(result))


@app.command()
def champion(model: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Show the current champion of MODEL and where its artifacts are."""
    data = report.champion_data(_settings(), model)
    _emit(data, as_json, report.champion_text(data))


@app.command()
def models(model: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """List every registered version of MODEL, newest first."""
    rows = report.models_data(_settings(), model)
    _emit(
        rows,
        as_json,
        report.table(rows, ["version", "status", "datasets", "pr_auc", "ndcg@10", "created_at"]),
    )


@app.command()
def history(model: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """The promotion ledger and the decisions of MODEL, oldest first."""
    data = report.history_data(_settings(), model)
    _emit(data, as_json, report.history_text(data))


@app.command()
def datasets(dataset: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """List the versions of DATASET and its quarantined files."""
    data = report.datasets_data(_settings(), dataset)
    _emit(data, as_json, report.datasets_text(data))


@app.command()
def verify(
    model: Annotated[str, typer.Argument()],
    version: Annotated[str | None, typer.Argument(help="Default: every version.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check every artifact's sha256 against the registry and repair a lagging champion.json."""
    data = report.verify_data(_settings(), model, version)
    _emit(data, as_json, report.verify_text(data))
    if not data["ok"]:
        raise typer.Exit(1)


@app.command()
def rollback(
    model: Annotated[str, typer.Argument()],
    to: Annotated[
        str | None,
        typer.Option("--to", help="Version to restore (default: the previous champion)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make an earlier version champion again (a new ledger entry, never an edit)."""
    data = report.rollback_data(_settings(), model, to)
    _emit(
        data,
        as_json,
        f"{model}: champion {data['from_version']} -> {data['to_version']} (rollback)",
    )


@app.command()
def cost(
    model: Annotated[str | None, typer.Argument(help="Default: every model.")] = None,
    since: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only runs from this day.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Training spend, what on-demand would have cost, savings and cost per promotion."""
    data = report.cost_data(_settings(), model, since.date().isoformat() if since else None)
    _emit(data, as_json, report.cost_text(data))


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
    from tasks.promote import resolve_approval

    answer = {"approve": not reject, "approver": by, "comment": comment}
    result = resolve_approval.fn(model, version, answer, _settings())
    _emit(asdict(result), as_json, report.train_text(asdict(result)))


@app.command()
def quickstart(
    days: Annotated[int, typer.Option(min=8, max=60, help="Days of sample data.")] = 14,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's task logs.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run the whole loop on sample data: ingest, validate, retrain, gate, promote.

    Generates DAYS of transactions and interactions (plus item and user
    snapshots) with one bad file and a drift per model, then runs ingestion
    and retraining day by day for fraud and recs, one line per day and model.
    """
    from flows.quickstart import run_quickstart

    if not verbose:
        _quiet_prefect()
    summary = run_quickstart(_settings(), days, seed, echo=None if as_json else typer.echo)
    if as_json:
        _emit(summary, True, "")


def _quiet_prefect() -> None:
    """Quickstart prints its own summary lines: keep only Prefect's errors."""
    import logging

    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _configure_environment() -> None:
    """Quiet, offline-friendly Prefect defaults (the user's own settings win)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def main() -> None:
    """Console entry point: one-line errors, non-zero exit, no tracebacks for known failures."""
    from tasks.errors import RetrainError

    _configure_environment()
    try:
        app()
    except RetrainError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        from tasks.runtime import close_all

        close_all()


@app.command()
def serve(
    prefect_file: Annotated[
        str | None,
        typer.Option(
            "--prefect-file",
            help="Deployment definitions (default: deployments/prefect.yaml of this repository).",
        ),
    ] = None,
) -> None:
    """Serve every deployment of deployments/prefect.yaml against PREFECT_API_URL (no worker).

    Schedules and event triggers are live while it runs (a new landing file's
    retrain.data.arrived event starts ingestion, whose retrain.dataset.updated
    starts retraining). Stop it with Ctrl-C; Prefect pauses the served deployments.
    """
    # A served run should log at INFO to the Prefect UI (main() quiets one-shot commands),
    # and react to triggers within seconds rather than the default 10 s poll.
    if os.environ.get("PREFECT_LOGGING_LEVEL") == "WARNING":
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")
    url = _prefect_api_url()
    from pathlib import Path

    from flows.deployments import build_deployments, definitions_path, deployed_to_pools
    from tasks.errors import RetrainError

    path = Path(prefect_file) if prefect_file else definitions_path()
    deployments = build_deployments(path)
    bound = deployed_to_pools(deployments)
    if bound:
        raise RetrainError(
            f"already deployed to a work pool on this Prefect server: {', '.join(bound)};"
            " serve against another server, or delete them first"
            " (`prefect deployment delete FLOW/NAME`)"
        )
    sibling = path.parent / "automations.yaml"  # crash recovery (deployments/automations.yaml)
    _apply_automations(sibling if sibling.is_file() else None)
    typer.echo(f"serving {len(deployments)} deployment(s) from {path} against {url}")
    from prefect import serve as prefect_serve

    prefect_serve(*deployments)


def _prefect_api_url() -> str:
    """The configured Prefect API, checked to answer; a one-line error says how to start one."""
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    from tasks.errors import RetrainError

    start = (
        "start one with `prefect server start --host 127.0.0.1`, then"
        " `export PREFECT_API_URL=http://127.0.0.1:4200/api`"
    )
    url = get_current_settings().api.url
    if not url:
        raise RetrainError(f"no Prefect API configured (PREFECT_API_URL is unset): {start}")
    with get_client(sync_client=True) as client:
        failure = client.api_healthcheck()
    if failure is not None:
        reason = " ".join(str(failure).split())[:200]
        raise RetrainError(f"cannot reach the Prefect API at {url} ({reason}): {start}")
    return str(url)


@app.command()
def listen(
    queue_url: Annotated[
        str | None,
        typer.Option(
            "--queue-url",
            envvar="RETRAIN_SQS_QUEUE_URL",
            help="SQS queue receiving the bucket's notifications (s3:// store).",
        ),
    ] = None,
    setup: Annotated[
        bool,
        typer.Option(
            "--setup",
            help="Create the queue if missing, let the bucket send to it, route the bucket's"
            " new objects under landing/ to it; print the queue URL.",
        ),
    ] = False,
    queue_name: Annotated[
        str, typer.Option(help="Queue --setup creates when no --queue-url is given.")
    ] = "retrain-landing",
    once: Annotated[
        bool, typer.Option("--once", help="Process what is waiting (one folder scan), then exit.")
    ] = False,
    max_messages: Annotated[
        int, typer.Option(min=1, max=10, help="Messages per SQS receive.")
    ] = 10,
    wait_seconds: Annotated[
        int, typer.Option(min=0, max=20, help="SQS long-poll wait per receive.")
    ] = 20,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between scans of a file:// store.")
    ] = 5.0,
    as_json: JsonOpt = False,
) -> None:
    """Emit retrain.data.arrived for each new landing file of a known dataset.

    s3:// store: reads the bucket's ObjectCreated notifications from an SQS queue and
    deletes each message once its events are emitted. file:// store: polls the
    landing folders. Anything else is logged and dropped. Needs PREFECT_API_URL.
    """
    from tasks import listen as listener
    from tasks.io import events

    settings = _settings()
    if setup:
        done, outside = listener.setup_listener(settings, queue_url, queue_name)
        data = {**asdict(done), "datasets_outside_filter": outside}
        text = f"s3://{done.bucket}/{done.prefix}* ObjectCreated -> {done.queue_arn}\n"
        text += "".join(
            f"warning: {d} lands outside {done.prefix}: not notified\n" for d in outside
        )
        _emit(data, as_json, text + done.queue_url)
        return
    source = listener.open_source(settings, queue_url, max_messages, wait_seconds, interval)
    _prefect_api_url()
    listener.configure_logging()
    summary = listener.listen(source, events.emit, once=once)
    _emit(asdict(summary), as_json, listener.summary_text(summary))
    if summary.kept:
        raise listener.ListenError(f"{summary.kept} message(s) kept for redelivery: emit failed")


def _apply_automations(path: Any | None) -> None:
    from flows.automations import apply_automations

    for name, done in apply_automations(path):
        typer.echo(f"automation {name}: {done}")


@app.command()
def automations(
    file: Annotated[
        str | None,
        typer.Option(
            "--file", help="Automations (default: deployments/automations.yaml of this repository)."
        ),
    ] = None,
) -> None:
    """Create or update the automations of deployments/automations.yaml on PREFECT_API_URL.

    For the `prefect deploy` path (`retrain serve` applies them itself): crash
    recovery re-runs a retraining run that ended Crashed, at most max_recoveries
    times. Matched by name, so running it again updates them.
    """
    from pathlib import Path

    _prefect_api_url()
    _apply_automations(Path(file) if file else None)
