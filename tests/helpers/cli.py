"""Running the ``retrain`` command line in-process."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner


def cli(*args: str) -> Any:
    """Invoke ``retrain ARGS...`` with Typer's runner; returns its Result (exit code, output)."""
    from flows.cli import app

    return CliRunner().invoke(app, list(args))
