"""Commands that run the system against a Prefect server: serve, automations, listen."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from flows.cli.app import JsonOpt, app, emit, settings


def _apply_automations(path: Path) -> None:
    from tasks.io.deployments import build_automations
    from tasks.io.prefect_api import apply_automations

    for name, done in apply_automations(build_automations(path)):
        typer.echo(f"automation {name}: {done}")


@app.command()
def serve(
    prefect_file: Annotated[
        str | None,
        typer.Option(
            "--prefect-file",
            help="Deployment definitions (default: prefect.yaml in RETRAIN_DEPLOYMENTS_DIR,"
            " ./deployments).",
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
    from schemas.automations import AUTOMATIONS_FILE
    from schemas.deployments import definitions_path
    from schemas.errors import RetrainError
    from tasks.io.deployments import build_deployments
    from tasks.io.prefect_api import check_api, deployed_to_pools

    url = check_api()
    path = Path(prefect_file) if prefect_file else definitions_path(settings().deployments_dir)
    deployments = build_deployments(path)
    bound = deployed_to_pools(deployments)
    if bound:
        raise RetrainError(
            f"already deployed to a work pool on this Prefect server: {', '.join(bound)};"
            " serve against another server, or delete them first"
            " (`prefect deployment delete FLOW/NAME`)"
        )
    sibling = path.parent / AUTOMATIONS_FILE  # crash recovery (deployments/automations.yaml)
    if sibling.is_file():
        _apply_automations(sibling)
    typer.echo(f"serving {len(deployments)} deployment(s) from {path} against {url}")
    import logging

    from prefect import serve as prefect_serve

    # "Aborted submission of flow run ...: non-pending state" is logged at INFO on every poll
    # for each due run still waiting for its deployment's concurrency slot (one at a time per
    # dataset or model): a normal wait, not a failure, and a flood after a burst of events.
    logging.getLogger("prefect.runner.state_proposer").setLevel(logging.WARNING)

    prefect_serve(*deployments)


@app.command()
def automations(
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help="Automations (default: automations.yaml in RETRAIN_DEPLOYMENTS_DIR,"
            " ./deployments).",
        ),
    ] = None,
) -> None:
    """Create or update the automations of deployments/automations.yaml on PREFECT_API_URL.

    For the `prefect deploy` path (`retrain serve` applies them itself): crash
    recovery re-runs a retraining run that ended Crashed, at most max_recoveries
    times. Matched by name, so running it again updates them.
    """
    from schemas.automations import automations_path
    from tasks.io.prefect_api import check_api

    check_api()
    _apply_automations(Path(file) if file else automations_path(settings().deployments_dir))


@app.command()
def listen(
    queue_url: Annotated[
        str | None,
        typer.Option(
            "--queue-url",
            help="SQS queue receiving the bucket's notifications, s3:// store"
            " (default: RETRAIN_SQS_QUEUE_URL).",
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
    from tasks.io import arrivals

    current = settings()
    queue_url = queue_url or current.sqs_queue_url
    if setup:
        done, outside = arrivals.setup_listener(current, queue_url, queue_name)
        data = {**asdict(done), "datasets_outside_filter": outside}
        text = f"s3://{done.bucket}/{done.prefix}* ObjectCreated -> {done.queue_arn}\n"
        text += "".join(
            f"warning: {d} lands outside {done.prefix}: not notified\n" for d in outside
        )
        emit(data, as_json, text + done.queue_url)
        return
    source = arrivals.open_source(current, queue_url, max_messages, wait_seconds, interval)
    from tasks.io import events  # Prefect is imported once the source answers
    from tasks.io.prefect_api import check_api

    check_api()
    arrivals.configure_logging()
    summary = arrivals.listen(source, events.emit, once=once)
    emit(asdict(summary), as_json, arrivals.summary_text(summary))
    if summary.kept:
        raise arrivals.ListenError(f"{summary.kept} message(s) kept for redelivery: emit failed")


@app.command()
def migrate() -> None:
    """Bring the registry database (RETRAIN_DATABASE_URL) to this code's schema.

    Opening the registry migrates it too; on PostgreSQL with separate roles
    (infra/postgres/roles.sql) only the owner role may, so run this as the owner after
    each upgrade, then infra/postgres/grants.sql for the application role.
    """
    from tasks.io.registry import Registry

    current = settings()
    Registry.open(current.registry_url).close()
    typer.echo(f"registry at the newest schema: {current.registry_url.rsplit('@', 1)[-1]}")
