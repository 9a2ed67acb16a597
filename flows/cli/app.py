"""The ``retrain`` application: the Typer app, output helpers and the console entry point.

Commands (one module per group: ``pipeline.py``, ``views.py``, ``operate.py``) print
human-readable lines; ``--json`` prints one JSON document. Exit 0 when the command did
its job (a quarantined file or a rejected challenger is a normal outcome); exit 1
with a one-line error otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sys
from typing import Annotated, Any

import typer

from schemas.settings import Settings

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
spec_app = typer.Typer(help="Check model specs against the current data.", no_args_is_help=True)
app.add_typer(spec_app, name="spec")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]


def settings() -> Settings:
    """The environment's settings, read now."""
    from schemas.settings import load_settings

    return load_settings()


def emit(data: Any, as_json: bool, text: str) -> None:
    """Print ``data`` as one JSON document, or ``text`` for people."""
    typer.echo(json.dumps(_strict(data), indent=1, default=str) if as_json else text)


def _strict(value: Any) -> Any:
    """Strict JSON values: a numpy scalar as its Python value (a numpy bool is a JSON boolean,
    not the string "True"), NaN and infinities as null, times in ISO 8601 with their offset."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def quiet_prefect() -> None:
    """Keep only Prefect's errors (commands that print their own summary lines)."""
    import logging

    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).setLevel(logging.ERROR)


def configure_environment() -> None:
    """Quiet, offline-friendly Prefect defaults (the user's own settings win)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def main() -> None:
    """Console entry point: one-line errors, non-zero exit, no tracebacks for known failures."""
    from schemas.errors import RetrainError
    from tasks.io.runtime import close_all

    configure_environment()
    try:
        app()
    except RetrainError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        close_all()
