"""Which landing CSVs are validated whole and which in batches (RETRAIN_INGEST_WHOLE_MB)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.samples import Sample

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("batch_of_file", "whole_mb", "batched"),
    [
        (0.6, None, False),  # under two batches: whole (the default is twice the batch)
        (0.4, None, True),  # over two batches
        (0.6, 0.001, True),  # over an explicit RETRAIN_INGEST_WHOLE_MB
        (2.0, 1.0, False),  # under both
    ],
)
def test_files_up_to_the_whole_size_are_validated_in_one_piece(
    env: Path,
    sample: Sample,
    ingest: Callable[[], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    batch_of_file: float,
    whole_mb: float | None,
    batched: bool,
) -> None:
    from tasks.steps import ingest as steps

    day = sample.days[0]
    (body,) = sample.files[day].values()
    monkeypatch.setenv("RETRAIN_INGEST_BATCH_MB", str(batch_of_file * len(body) / 1e6))
    if whole_mb is not None:
        monkeypatch.setenv("RETRAIN_INGEST_WHOLE_MB", str(whole_mb))
    calls: list[str] = []
    in_batches = steps.validate_in_batches

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1])
        return in_batches(*args, **kwargs)

    monkeypatch.setattr(steps, "validate_in_batches", recording)
    sample.land([day])

    result = ingest()

    assert [f["status"] for f in result["files"]] == ["accepted"]
    assert result["version"]["rows"] == sample.rows([day])
    assert bool(calls) is batched
