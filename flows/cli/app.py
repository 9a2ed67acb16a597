"""The ``retrain`` application: the Typer app, output helpers and the console entry point.

Commands (one module per group: ``pipeline.py``, ``views.py``, ``operate.py``) print
human-readable lines; ``--json`` prints one JSON document. Exit 0 when the command did
its job (a quarantined file or a rejected challenger is a normal outcome); exit 1
with a one-line error otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
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
    # Plain help: flags show as flags (the rich panels print `--json <bool>`), -h works.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
data_app = typer.Typer(
    help="Sample data for trying the system.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(data_app, name="data")
spec_app = typer.Typer(help="Check model specs against the current data.", no_args_is_help=True)
app.add_typer(spec_app, name="spec")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]


def version_text() -> str:
    """``retrain X.Y.Z`` and the versions of the engines it runs on."""
    from importlib.metadata import PackageNotFoundError, version

    def of(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    engines = ", ".join(f"{n} {of(n)}" for n in ("prefect", "lightgbm", "great-expectations"))
    return f"retrain {of('retrain')} ({engines}; python {sys.version.split()[0]})"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Automatic, auditable retraining of LightGBM models: ingest, validate, train, gate,
    promote."""


def settings() -> Settings:
    """The environment's settings, read now."""
    from schemas.settings import load_settings

    return load_settings()


def known_model(current: Settings, name: str) -> None:
    """Refuse a model name no spec defines (the error lists the known ones)."""
    from schemas.loader import find_spec

    find_spec("models", name, current.specs_dir)


def known_dataset(current: Settings, name: str) -> None:
    """Refuse a dataset name no contract defines (the error lists the known ones)."""
    from schemas.loader import find_spec

    find_spec("datasets", name, current.specs_dir)


def read_only(current: Settings) -> None:
    """A read-only command: the registry must exist (it is never created here)."""
    from tasks.io.runtime import existing_runtime

    existing_runtime(current)


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
    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextmanager
def local_runs() -> Iterator[Callable[[], None]]:
    """Around a command's flow runs; yields ``api_ready``, to call before the first run.

    On Prefect's temporary local API (no API URL configured) the API process starts at
    once, in the background (about 10 s, a brand-new ``PREFECT_HOME`` included), while the
    command imports its flows; ``api_ready`` waits for it. And the runs send no heartbeats:
    nothing outlives the command to read them, and each run's heartbeat thread holds the
    run's end for up to a second (it checks its stop flag once a second). Against a real
    server nothing changes: heartbeats are how it tells a crashed run from a running one.
    """
    from prefect.settings import get_current_settings, temporary_settings

    if not verbose_asked():
        console_without_tracebacks()
    if get_current_settings().api.url:
        yield lambda: None
        return
    from prefect.server.api.server import SubprocessASGIServer

    # The same instance Prefect's client starts (one per process); if this start fails,
    # the client's own start raises the error when the first run needs the API.
    server = SubprocessASGIServer()
    starting = threading.Thread(target=server.start, daemon=True)
    starting.start()
    with ExitStack() as stack:
        stack.enter_context(temporary_settings(updates={"flows.heartbeat_frequency": None}))

        def api_ready() -> None:
            starting.join()
            if os.environ.get("RETRAIN_DASK_ADDRESS") and server.running:
                # tasks on Dask workers report to the API named in the settings they are
                # sent: name this temporary one (workers on this machine can reach it)
                stack.enter_context(temporary_settings(updates={"api.url": server.api_url}))

        yield api_ready


def verbose_asked() -> bool:
    """Whether the command line asks for ``--verbose`` (``-v``)."""
    return bool({"--verbose", "-v"} & set(sys.argv[1:]))


class _WithoutTraceback(logging.Formatter):
    """A console formatter's lines without the exception's traceback (the message keeps the
    exception's one line); the record itself is left whole for the other handlers (the
    Prefect API's log handler still sends the traceback to the UI)."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        kept = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = kept


def console_without_tracebacks() -> None:
    """Prefect's console lines without tracebacks: a failed task's traceback came before the
    command's own one-line error. ``--verbose`` keeps them."""
    from prefect.logging.configuration import ensure_logging_setup
    from prefect.logging.handlers import PrefectConsoleHandler

    ensure_logging_setup()
    for name in ("", "prefect", "prefect.flow_runs", "prefect.task_runs"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, PrefectConsoleHandler) and not isinstance(
                handler.formatter, _WithoutTraceback
            ):
                handler.setFormatter(_WithoutTraceback(handler.formatter))


def verbose_libraries() -> None:
    """``--verbose``: the data libraries' INFO logs too (quiet by default)."""
    logging.getLogger("great_expectations").setLevel(logging.INFO)


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
    except Exception as exc:
        message = known_failure(exc)
        if message is None or verbose_asked():
            raise
        typer.echo(f"error: {message} (--verbose shows the traceback)", err=True)
        sys.exit(1)
    finally:
        close_all()


def known_failure(exc: BaseException) -> str | None:
    """A one-line explanation of an environment failure a user can fix (None: unknown).

    Recognised by type name and message, so this layer imports no adapter library.
    """
    text = str(exc)
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if "Failed to reach API at" in text or kind.startswith("httpx.Connect"):
        url = os.environ.get("PREFECT_API_URL", "")
        where = f" at {url}" if url else ""
        return (
            f"the Prefect API{where} is unreachable: start it (prefect server start --host "
            "127.0.0.1) or unset PREFECT_API_URL to run on a temporary local API"
        )
    if kind.startswith("sqlalchemy.") and "database is locked" in text:
        return (
            "the registry database is locked by another process (a long write holds it): "
            "retry when it has finished, or use PostgreSQL for concurrent runs"
        )
    if kind.startswith("sqlalchemy.") and "readonly database" in text:
        return (
            "the registry database is read-only here: make the file and its folder "
            "writable, or point RETRAIN_DATABASE_URL at a writable registry"
        )
    return None
