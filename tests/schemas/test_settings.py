"""Settings from the environment: an invalid value is named in one line, never a traceback."""

from __future__ import annotations

import pytest

from schemas.errors import SpecError
from schemas.settings import _problem, load_settings

pytestmark = pytest.mark.unit


def test_each_invalid_variable_is_named_with_its_value_and_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETRAIN_INGEST_WHOLE_MB", "-1")
    monkeypatch.setenv("RETRAIN_INGEST_BATCH_MB", "lots")
    with pytest.raises(SpecError) as raised:
        load_settings()
    message = str(raised.value)
    assert "RETRAIN_INGEST_WHOLE_MB='-1': Input should be greater than 0" in message
    assert "RETRAIN_INGEST_BATCH_MB='lots': Input should be a valid number" in message
    assert "\n" not in message


def test_a_value_that_may_hold_a_credential_is_not_repeated() -> None:
    error = {"loc": ("database_url",), "input": "postgresql://u:hunter2@db/x", "msg": "bad"}
    assert _problem(error) == "RETRAIN_DATABASE_URL: bad"


def test_unset_the_whole_size_is_twice_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETRAIN_INGEST_BATCH_MB", "10")
    assert load_settings().ingest_whole_bytes == 20_000_000
    monkeypatch.setenv("RETRAIN_INGEST_WHOLE_MB", "5")
    assert load_settings().ingest_whole_bytes == 5_000_000
