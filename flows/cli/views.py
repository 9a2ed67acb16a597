"""Commands that show or repair what the registry holds: champion, models, history,
datasets, verify, gc, rollback, cost."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from flows.cli import render
from flows.cli.app import JsonOpt, app, emit, known_dataset, known_model, read_only, settings


@app.command()
def champion(model: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Show the current champion of MODEL and where its artifacts are."""
    from schemas.errors import RetrainError
    from tasks.io import catalog

    current = settings()
    known_model(current, model)
    read_only(current)
    data = catalog.champion_data(current, model)
    if data is None:
        raise RetrainError(f"model {model} has no champion yet (run: retrain train {model})")
    emit(data, as_json, render.champion_text(data))


@app.command()
def models(model: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """List every registered version of MODEL, newest first."""
    from schemas.specs import BINARY_METRICS, RANKING_METRICS, Task, load_model_spec
    from tasks.io import catalog

    current = settings()
    spec = load_model_spec(model, current.specs_dir)
    read_only(current)
    rows = catalog.models_data(current, model)
    named = BINARY_METRICS if spec.task == Task.BINARY else RANKING_METRICS
    metrics = render.metric_columns(spec.policy.primary_metric, named, rows)
    columns = ["version", "status", "datasets", *metrics, "created_at"]
    emit({"model": model, "versions": rows}, as_json, render.table(rows, columns))


@app.command()
def report(
    model: Annotated[str, typer.Argument()],
    version: Annotated[str | None, typer.Argument(help="Default: the newest version.")] = None,
    open_it: Annotated[
        bool, typer.Option("--open", help="Open the page in the default browser.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Print where the evaluation report of a trained version is (self-contained HTML).

    It shows the decision with every check, the metrics of challenger, champion and
    baselines, the curves, slices, feature importance, the metric over versions, cost
    and lineage. With an S3 store, --open opens a presigned link (valid one hour).
    """
    from schemas.specs import load_model_spec
    from tasks.steps.evaluation import find_report

    load_model_spec(model, settings().specs_dir)
    data = find_report(model, version, settings())
    emit(data, as_json, data["local_path"] or data["html"])
    if open_it:
        import webbrowser

        target = data["link"] or data["html"]
        if not webbrowser.open(target):
            typer.echo(f"no browser to open {target}", err=True)


@app.command()
def history(model: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """The promotion ledger and the decisions of MODEL, oldest first."""
    from tasks.io import catalog

    current = settings()
    known_model(current, model)
    read_only(current)
    data = catalog.history_data(current, model)
    emit(data, as_json, render.history_text(data))


@app.command()
def datasets(dataset: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """List the versions of DATASET and its quarantined files."""
    from tasks.io import catalog

    current = settings()
    known_dataset(current, dataset)
    read_only(current)
    data = catalog.datasets_data(current, dataset)
    emit(data, as_json, render.datasets_text(data))


@app.command()
def verify(
    model: Annotated[str | None, typer.Argument(help="Required unless --all.")] = None,
    version: Annotated[str | None, typer.Argument(help="Default: every version.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every model and every dataset.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check artifacts, dataset manifests and partitions (sha256 against the registry) and
    the registry's champion story; repair a lagging champion.json. Exit 1 on any finding."""
    from schemas.errors import RetrainError
    from tasks.steps.maintenance import verify_everything, verify_model

    current = settings()
    if model is not None:
        known_model(current, model)
    read_only(current)
    if every:
        data = verify_everything.fn(current)
        emit(data, as_json, render.verify_all_text(data))
    elif model is None:
        raise RetrainError("verify needs a MODEL, or --all")
    else:
        data = verify_model.fn(model, version, current)
        emit(data, as_json, render.verify_text(data))
    if not data["ok"]:
        raise typer.Exit(1)


@app.command()
def gc(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be removed.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Remove what failed runs left in the store: unregistered version folders, orphan
    dataset manifests, stale checkpoints. Never anything registered."""
    from tasks.steps.maintenance import collect_garbage

    data = collect_garbage.fn(dry_run, settings())
    emit(data, as_json, render.gc_text(data))


@app.command()
def rollback(
    model: Annotated[str, typer.Argument()],
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Version to restore, v<n> or <n> (default: the champion before the current"
            " one; a second rollback goes further back).",
        ),
    ] = None,
    expected: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="The champion you expect to replace: if it was already rolled back, this is a"
            " no-op (safe to retry). Without it each rollback is a new request: a rerun"
            " moves again, so scripts should pass it.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make an earlier version champion again (a new ledger entry, never an edit).

    The restored version's artifacts are re-checked against their sha256 first.
    """
    from tasks.steps.maintenance import rollback_champion

    current = settings()
    known_model(current, model)
    read_only(current)
    data = rollback_champion.fn(model, to, "retrain CLI", "manual rollback", current, expected)
    text = f"{model}: champion {data['from_version']} -> {data['to_version']} (rollback)"
    if not data["moved"]:
        text += f" already done at {data['created_at']:%Y-%m-%d %H:%M:%S}: nothing moved"
    emit(data, as_json, text)


@app.command()
def cost(
    model: Annotated[str | None, typer.Argument(help="Default: every model.")] = None,
    since: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only runs from this day.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Training spend, what on-demand would have cost, savings and cost per promotion."""
    from tasks.io import catalog

    current = settings()
    if model is not None:
        known_model(current, model)
    read_only(current)
    data = catalog.cost_data(current, model, since.date().isoformat() if since else None)
    emit(data, as_json, render.cost_text(data))
