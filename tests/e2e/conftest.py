"""The real `prefect server` the end-to-end tests run against."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.services import SLOT_WAIT, prefect_server


@pytest.fixture
def prefect_api(tmp_path: Path) -> Iterator[str]:
    """A real `prefect server` on 127.0.0.1 (its own PREFECT_HOME) for one test; its API URL."""
    with prefect_server(tmp_path, **{SLOT_WAIT: "3"}) as server:
        yield server.api
