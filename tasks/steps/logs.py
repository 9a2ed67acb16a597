"""The logger of the current Prefect run, or a plain one when a step runs outside a run."""

from __future__ import annotations

import logging
from typing import Any

from prefect import get_run_logger
from prefect.exceptions import MissingContextError

FALLBACK = logging.getLogger("retrain")


def step_logger() -> logging.Logger | logging.LoggerAdapter[Any]:
    """Prefect's run logger inside a flow or task run; ``retrain`` otherwise (CLI ``.fn`` calls)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return FALLBACK
