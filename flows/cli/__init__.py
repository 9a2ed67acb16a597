"""The ``retrain`` command line (DESIGN section 9): the app and every command group."""

from flows.cli import operate, pipeline, views
from flows.cli.app import app, main

__all__ = ["app", "main", "operate", "pipeline", "views"]
