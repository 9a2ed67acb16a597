"""The monitoring flow on the file store, SQLite and Prefect's harness: drift, degradation,
the actions they lead to, and every run that cannot look saying why."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.cli import cli
from tests.helpers.prefect import latest_artifact
from tests.helpers.samples import DAYS, ROWS_PER_DAY, SEED, START, Sample, relaxed_fraud_spec

pytestmark = pytest.mark.integration
Events = list[tuple[str, str, dict[str, Any], dict[str, str] | None]]


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> Events:
    """Every event the system emits, recorded instead of sent."""
    import tasks.io.events

    calls: Events = []

    def record(
        event: str, resource_id: str, payload: dict[str, Any], labels: dict[str, str] | None = None
    ) -> str:
        calls.append((event, resource_id, payload, labels))
        return f"event-{len(calls)}"

    monkeypatch.setattr(tasks.io.events, "emit", record)
    return calls


def monitor() -> dict[str, Any]:
    from flows.monitor_model import monitor_model
    from schemas.params import MonitorParams

    return monitor_model(MonitorParams(model="fraud"))


def drifted_days() -> dict[Any, dict[str, bytes]]:
    """The sample's days, the last one drifted (the backfill days are the same bytes)."""
    from tasks.samples import transaction_files

    return transaction_files(DAYS, START, SEED, rows_per_day=ROWS_PER_DAY, drift_from_day=DAYS - 1)


def land_day(files: dict[Any, dict[str, bytes]], day: Any) -> None:
    from schemas.settings import load_settings
    from tasks.io.landing import write_landing

    write_landing(load_settings(), "transactions", day, files[day])


def kinds(events: Events) -> list[str]:
    return [e[0] for e in events if e[0].startswith("retrain.model.")]


def test_without_new_data_nothing_is_measured_and_it_says_so(
    champion_home: Path, emitted: Events
) -> None:
    result = monitor()

    assert result["champion"] == "v1"
    assert result["performance"]["status"] == "insufficient_data"
    assert "matured labels" in result["performance"]["reason"]
    assert kinds(emitted) == []


def test_a_drifted_day_is_flagged_once_per_cooldown_with_its_columns(
    champion_home: Path, sample: Sample, ingest: Callable[[], Any], emitted: Events
) -> None:
    files = drifted_days()
    land_day(files, sample.new_day)
    assert ingest()["version"]["version"] == "v2"

    first = monitor()
    again = monitor()

    assert first["status"] == "drift" and first["drift_detected"] is True
    assert {"amount", "channel"} <= set(first["drifted_features"])
    assert first["features"]["amount"]["statistic"] == "jensenshannon"
    assert first["features"]["customer_age"]["drifted"] is False
    assert first["action"] == "retrain" and first["events"]["drifted"] is True
    assert again["drift_detected"] is True and again["events"]["drifted"] is False
    assert again["action"] == "none" and "cooldown" in " ".join(again["reasons"])
    drifts = [e for e in emitted if e[0] == "retrain.model.drifted"]
    assert len(drifts) == 1
    (_name, resource, payload, _labels) = drifts[0]
    assert resource == "retrain.model.fraud"
    assert payload["champion_version"] == "v1" and payload["report_uri"] == first["report_uri"]
    assert {c["column"] for c in payload["drifted_features"]} >= {"amount", "channel"}


def test_each_run_writes_a_report_a_registry_row_and_a_prefect_artifact(
    champion_home: Path, sample: Sample, ingest: Callable[[], Any], emitted: Events
) -> None:
    from schemas.settings import load_settings
    from tasks.io.runtime import runtime

    land_day(drifted_days(), sample.new_day)
    ingest()
    result = monitor()

    report = Path(result["report_uri"].removeprefix("file://"))
    page = report.read_text(encoding="utf-8")
    assert "fraud monitoring: drift" in page and page.count("<svg") >= 3
    assert json.loads((report.parent / "report.json").read_text())["status"] == "drift"
    (row,) = runtime(load_settings()).registry.list_monitoring("fraud")
    assert (row.status, row.champion_version, row.drift_detected) == ("drift", "v1", True)
    assert row.report_uri == result["report_uri"] and row.report_sha256
    artifact = latest_artifact("monitor-fraud")
    assert artifact is not None and "fraud monitoring: drift" in artifact.data
    assert result["report_uri"] in artifact.data
    columns = latest_artifact("monitor-fraud-columns")
    assert columns is not None and "amount" in str(columns.data)


def test_cli_prints_the_verdict_and_json_and_lists_past_runs(
    champion_home: Path, sample: Sample, ingest: Callable[[], Any], emitted: Events
) -> None:
    land_day(drifted_days(), sample.new_day)
    ingest()

    text = cli("monitor", "fraud")
    as_json = cli("monitor", "fraud", "--json")
    past = cli("monitor", "fraud", "--history", "--json")

    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("fraud v1: drift")
    assert "report: file://" in text.stdout
    data = json.loads(as_json.stdout)
    for key in ("model", "champion", "drift_detected", "drifted_features", "features",
                "prediction", "performance", "action", "report_uri"):  # fmt: skip
        assert key in data, key
    assert isinstance(data["drift_detected"], bool)
    assert [r["status"] for r in json.loads(past.stdout)["runs"]] == ["drift", "drift"]
    assert cli("monitor", "fraud", "--history").exit_code == 0


@pytest.fixture
def bad_spec(env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str], None]:
    """Switch the fraud spec to one whose models are weak (one useless input, a huge margin,
    no floors), watched with ``on_degradation``; the monitoring floor makes them degraded."""

    def use(on_degradation: str) -> None:
        spec = relaxed_fraud_spec()
        spec["features"] = {"numeric": ["customer_age"]}
        spec["policy"]["margin"] = 1.0
        spec["policy"]["floors"] = {}
        spec["policy"]["guards"].pop("slices", None)
        spec["monitoring"] = {
            "on_degradation": on_degradation, "performance_floor": 0.2,
            "bootstrap_resamples": 200, "min_matured_rows": 300,
        }  # fmt: skip
        folder = tmp_path / "bad-specs"
        (folder / "models").mkdir(parents=True, exist_ok=True)
        (folder / "models" / "fraud.yaml").write_text(yaml.safe_dump(spec), "utf-8")
        monkeypatch.setenv("RETRAIN_SPECS_DIR", str(folder))

    return use


@pytest.fixture
def weak_champion(
    champion_home: Path,
    sample: Sample,
    ingest: Callable[[], Any],
    retrain: Callable[..., Any],
    bad_spec: Callable[[str], None],
) -> Callable[[str], dict[str, Any]]:
    """fraud v1 (good) replaced by a weak v2 trained on the same data; a new day lands."""

    def make(on_degradation: str) -> dict[str, Any]:
        bad_spec(on_degradation)
        promoted = retrain("v1")
        assert (promoted["outcome"], promoted["champion"]) == ("promoted", "v2"), promoted
        sample.land([sample.new_day])
        ingest()
        return promoted

    return make


def test_degradation_with_rollback_restores_the_better_previous_champion(
    weak_champion: Callable[[str], Any], registry: Any, emitted: Events
) -> None:
    weak_champion("rollback")

    result = monitor()

    assert result["status"] == "degraded" and result["performance"]["degraded"] is True
    assert result["action"] == "rollback"
    assert result["previous_champion"]["low"] > 0  # v1 significantly better on the same rows
    assert registry.champion("fraud").version == "v1"
    last = registry.history("fraud")[-1]
    assert (last.action, last.from_version, last.to_version) == ("rollback", "v2", "v1")
    assert last.actor == "monitor_model flow" and "monitoring: " in last.reason
    (degraded,) = [e for e in emitted if e[0] == "retrain.model.degraded"]
    assert degraded[2]["action"] == "rollback" and degraded[3] == {"retrain.action": "rollback"}


def test_degradation_with_retrain_asks_for_a_retraining_and_keeps_the_champion(
    weak_champion: Callable[[str], Any], registry: Any, emitted: Events
) -> None:
    weak_champion("retrain")

    result = monitor()

    assert (result["status"], result["action"]) == ("degraded", "retrain")
    assert registry.champion("fraud").version == "v2"
    assert [e.action for e in registry.history("fraud")] == ["promote", "promote"]
    (degraded,) = [e for e in emitted if e[0] == "retrain.model.degraded"]
    assert degraded[3] == {"retrain.action": "retrain"}  # what retrain-<model>'s trigger matches
    assert degraded[2]["metric"] == "pr_auc" and degraded[2]["value"] < 0.2


def test_no_champion_is_an_outcome_not_a_crash(env: Path, emitted: Events) -> None:
    result = monitor()

    assert (result["status"], result["action"], result["champion"]) == ("no_champion", "none", None)
    assert result["drift_detected"] is False and result["features"] == {}
    assert kinds(emitted) == []


def test_a_damaged_champion_is_unverified_and_nothing_parses_it(
    champion_home: Path, store_root: Path, emitted: Events
) -> None:
    model = store_root / "models" / "fraud" / "v1" / "model.txt"
    data = bytearray(model.read_bytes())
    data[100] ^= 0xFF
    model.chmod(0o644)
    model.write_bytes(bytes(data))

    result = monitor()

    assert result["status"] == "champion_unverified"
    assert "sha256 mismatch" in result["reasons"][0] and "model.txt" in result["reasons"][0]
    assert result["drift_detected"] is False and kinds(emitted) == []


def test_a_reference_of_the_old_format_is_reported_not_compared(
    env: Path,
    sample: Sample,
    ingest: Callable[[], Any],
    retrain: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    emitted: Events,
) -> None:
    import tasks.steps.publish

    monkeypatch.setattr(
        tasks.steps.publish,
        "reference_profile",
        lambda *_a: {"rows": 10, "features": {"amount": {"edges": [], "shares": []}}},
    )
    sample.land(sample.backfill)
    ingest()
    assert retrain()["outcome"] == "promoted"

    result = monitor()

    assert result["status"] == "reference_outdated"
    assert "format 1" in result["reasons"][0] and "retrain fraud" in result["reasons"][0]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record (and refuse) every connection to anything but this machine."""
    attempts: list[Any] = []
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in (
            "127.0.0.1", "::1", "localhost",
        ):  # fmt: skip
            attempts.append(address)
            raise OSError(f"test: no network ({address})")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


def test_monitoring_and_its_report_attempt_no_network_call(
    champion_home: Path,
    sample: Sample,
    ingest: Callable[[], Any],
    emitted: Events,
    no_network: list[Any],
) -> None:
    land_day(drifted_days(), sample.new_day)
    ingest()

    result = monitor()

    assert result["status"] == "drift"
    assert no_network == []
