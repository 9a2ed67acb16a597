"""The retraining flow end to end on the file store, SQLite and Prefect's harness."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest

from tasks.io.registry import Registry
from tests.helpers.cli import cli
from tests.helpers.samples import Sample, read_json, sha256_hex
from tests.helpers.store import tree

pytestmark = pytest.mark.integration

Run = Callable[..., dict[str, Any]]
REAL_PROMOTE = Registry.promote


# ---------------------------------------------------------------- retraining


def test_retraining_promotes_then_skips_then_compares_on_the_same_holdout(
    env: Path,
    store_root: Path,
    sample: Sample,
    ingest: Run,
    retrain: Run,
    registry: Any,
    specs_dir: Path,
    pinned_code_version: str,
) -> None:
    from schemas.specs import load_model_spec

    sample.land(sample.backfill)
    ingest()

    first = retrain()

    assert first["outcome"] == "promoted", first
    assert (first["version"], first["champion"], first["previous_champion"]) == ("v1", "v1", None)
    assert first["interval"] is None  # no champion: floors only
    v1 = store_root / "models/fraud/v1"
    model_txt = (v1 / "model.txt").read_bytes()
    assert model_txt.startswith(b"tree\n")
    card = read_json(v1 / "card.json")
    assert card["dataset_versions"] == {"transactions": "v1"}
    assert card["spec_fingerprint"] == load_model_spec("fraud", specs_dir).fingerprint()
    assert card["code_version"] == pinned_code_version
    assert card["metrics"]["pr_auc"] == first["metrics"]["pr_auc"]
    assert card["decision"]["outcome"] == "promoted"
    assert card["artifacts"]["model.txt"]["sha256"] == sha256_hex(model_txt)
    for name, art in card["artifacts"].items():  # the version's files and its report's
        stored = Path(url2pathname(urlparse(art["uri"]).path)).read_bytes()
        assert sha256_hex(stored) == art["sha256"], name
    assert card["artifacts"]["report.html"]["uri"].endswith("/reports/fraud/v1/report.html")
    record = registry.champion("fraud")
    assert record.version == "v1"
    assert record.artifact_sha256 == sha256_hex(model_txt)
    assert record.card_sha256 == sha256_hex((v1 / "card.json").read_bytes())

    pointer = read_json(store_root / "models/fraud/champion.json")
    shown = cli("champion", "fraud", "--json")
    assert shown.exit_code == 0, shown.output
    champion = json.loads(shown.stdout)
    for key in ("model", "version", "artifact_uri", "sha256", "promoted_at"):
        assert champion[key] == pointer[key], key
    assert champion["dataset_version"] == pointer["dataset_versions"] == {"transactions": "v1"}
    assert champion["metrics"]["pr_auc"] == pytest.approx(first["metrics"]["pr_auc"])
    assert champion["promoted_at"]

    models_before = tree(store_root, "models") | tree(store_root, "checkpoints")

    second = retrain()

    assert second["outcome"] == "skipped", second
    assert second["version"] is None
    assert "nothing new" in second["reasons"][0]
    assert [m.version for m in registry.list_model_versions("fraud")] == ["v1"]
    assert tree(store_root, "models") | tree(store_root, "checkpoints") == models_before
    assert registry.list_decisions("fraud")[0].outcome == "skipped"

    sample.land([sample.new_day])
    assert ingest()["version"]["version"] == "v2"

    third = retrain()

    assert third["outcome"] in {"promoted", "rejected"}, third
    assert (third["version"], third["previous_champion"]) == ("v2", "v1")
    assert third["dataset_versions"] == {"transactions": "v2"}
    interval = third["interval"]
    assert interval is not None
    assert interval["low"] <= interval["estimate"] <= interval["high"]
    assert third["champion_metrics"]["pr_auc"] is not None
    card2 = read_json(store_root / "models/fraud/v2/card.json")
    assert card2["champion"]["version"] == "v1"
    assert card2["champion"]["metrics"] == third["champion_metrics"]
    evaluation = card2["evaluation"]
    assert evaluation["interval"] == pytest.approx(interval)
    v2_record = registry.get_model_version("fraud", "v2")
    assert evaluation["fingerprint"] == v2_record.eval_fingerprint
    assert evaluation["fingerprint"] != card["evaluation"]["fingerprint"]  # the holdout moved
    decision = registry.list_decisions("fraud")[0]
    assert (decision.version, decision.champion_version) == ("v2", "v1")
    assert decision.outcome == third["outcome"]
    assert decision.evidence["evidence"]["fingerprint"] == evaluation["fingerprint"]
    assert decision.evidence["evidence"]["interval"]["low"] == pytest.approx(interval["low"])
    assert any(c["name"] == "gate" for c in decision.evidence["checks"])


def test_retraining_without_enough_data_is_skipped_and_trains_nothing(
    env: Path, store_root: Path, sample: Sample, ingest: Run, retrain: Run, registry: Any
) -> None:
    empty = retrain()

    assert empty["outcome"] == "skipped"
    assert "transactions has no version" in empty["reasons"][0]

    sample.land(sample.days[:1])  # one day: no room for train, validation and test windows
    ingest()
    thin = retrain()

    assert thin["outcome"] == "skipped"
    assert thin["reasons"][0].startswith("not enough data")
    assert thin["dataset_versions"] == {"transactions": "v1"}
    assert registry.list_model_versions("fraud") == []
    assert registry.champion("fraud") is None
    assert [d.outcome for d in registry.list_decisions("fraud")] == ["skipped", "skipped"]
    assert tree(store_root, "models") == {}


def test_same_dataset_version_trains_a_byte_identical_model_in_another_home(
    env: Path,
    tmp_path: Path,
    sample: Sample,
    ingest: Run,
    retrain: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trained = {}
    for name in ("a", "b"):
        home = tmp_path / f"home-{name}"
        monkeypatch.setenv("RETRAIN_HOME", str(home))
        sample.land(sample.backfill)
        assert ingest()["version"]["version"] == "v1"
        result = retrain()
        assert result["version"] == "v1", result
        store = home / "store"
        trained[name] = (
            (store / "models/fraud/v1/model.txt").read_bytes(),
            read_json(store / "models/fraud/v1/card.json"),
            read_json(store / "datasets/transactions/v1.json"),
        )

    (model_a, card_a, manifest_a), (model_b, card_b, manifest_b) = trained["a"], trained["b"]
    assert [p["key"] for p in manifest_a["partitions"]] == [
        p["key"] for p in manifest_b["partitions"]
    ]
    assert card_a["training_key"] == card_b["training_key"]
    assert card_a["evaluation"]["fingerprint"] == card_b["evaluation"]["fingerprint"]
    assert model_a == model_b


# ---------------------------------------------------------------- failures


@pytest.fixture
def failing_promotion(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the registry's promote raise (as a dropped database connection would)."""
    from schemas.errors import RegistryError

    calls: list[str] = []

    def promote(self: Registry, model: str, version: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(version)
        raise RegistryError(f"registry could not promote {model} {version}: injected failure")

    monkeypatch.setattr(Registry, "promote", promote)
    return calls


def _champion_state(store_root: Path, registry: Any) -> tuple[Any, ...]:
    champion = registry.champion("fraud")
    return (
        champion.version,
        champion.status,
        (store_root / "models/fraud/champion.json").read_bytes(),
        registry.history("fraud"),
    )


def test_a_failed_promotion_leaves_the_champion_and_pointer_unchanged(
    champion_home: Path,
    store_root: Path,
    sample: Sample,
    ingest: Run,
    retrain: Run,
    registry: Any,
    failing_promotion: list[str],
) -> None:
    sample.land([sample.new_day])
    ingest()
    before = _champion_state(store_root, registry)

    try:
        outcome = retrain()
    except Exception as exc:  # the run may fail: that is the honest outcome
        outcome = {"error": str(exc)}

    assert failing_promotion, "the challenger never reached promotion"
    assert outcome.get("outcome") != "promoted", outcome
    assert _champion_state(store_root, registry) == before


def test_after_a_failed_promotion_the_run_fails_and_a_rerun_promotes(
    env: Path,
    sample: Sample,
    ingest: Run,
    retrain: Run,
    registry: Any,
    monkeypatch: pytest.MonkeyPatch,
    failing_promotion: list[str],
) -> None:
    sample.land(sample.backfill)
    ingest()

    with pytest.raises(Exception, match="injected failure"):
        retrain()
    assert registry.champion("fraud") is None

    monkeypatch.setattr(Registry, "promote", REAL_PROMOTE)  # the database is back
    rerun = retrain()
    assert rerun["outcome"] == "promoted", rerun
    assert registry.champion("fraud") is not None


# ---------------------------------------------------------------- verify


def test_verify_repairs_champion_json_and_names_a_tampered_version(
    champion_home: Path, store_root: Path
) -> None:
    pointer_path = store_root / "models/fraud/champion.json"
    good = read_json(pointer_path)
    assert good["version"] == "v1"

    pointer_path.unlink()
    result = cli("verify", "fraud")
    assert result.exit_code == 0, result.output
    assert "fraud v1: ok" in result.stdout
    assert read_json(pointer_path) == good

    pointer_path.write_text(json.dumps({**good, "version": "v9", "sha256": "0" * 64}))
    result = cli("verify", "fraud", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["champion_pointer"] == good
    assert read_json(pointer_path) == good

    model_path = store_root / "models/fraud/v1/model.txt"
    model_path.write_bytes(model_path.read_bytes().replace(b"tree", b"tref", 1))
    result = cli("verify", "fraud")
    assert result.exit_code == 1, result.output
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("fraud v1"))
    assert "FAILED" in line
    assert "sha256 mismatch" in line
    assert "model.txt" in line
    report = json.loads(cli("verify", "fraud", "v1", "--json").stdout)
    assert report["ok"] is False
    assert report["versions"][0]["version"] == "v1"


def test_verify_rewrites_a_corrupt_champion_json(champion_home: Path, store_root: Path) -> None:
    pointer_path = store_root / "models/fraud/champion.json"
    good = read_json(pointer_path)
    pointer_path.write_bytes(b'{"model": "fraud", "vers')  # a torn write

    result = cli("verify", "fraud")

    assert result.exit_code == 0, repr(result.exception)
    assert read_json(pointer_path) == good


def test_files_left_by_a_crashed_run_never_block_later_runs(
    env: Path, store_root: Path, sample: Sample, ingest: Run, retrain: Run, registry: Any
) -> None:
    """A run that died after writing a manifest or a card (spot loss) left them behind.

    A model version number is reserved before anything is uploaded, so files under an
    unreserved, unregistered number are leftovers: the run holding the number clears them.
    """
    for stray in ("datasets/transactions/v1.json", "models/fraud/v1/card.json"):
        (store_root / stray).parent.mkdir(parents=True, exist_ok=True)
        (store_root / stray).write_bytes(b'{"from": "a crashed run"}')
    sample.land(sample.backfill)
    assert ingest()["version"]["version"] == "v2"
    result = retrain()
    assert (result["outcome"], result["version"]) == ("promoted", "v1"), result
    assert read_json(store_root / "datasets/transactions/v1.json") == {"from": "a crashed run"}
    card = read_json(store_root / "models/fraud/v1/card.json")
    assert card["version"] == "v1"
    assert registry.get_model_version("fraud", "v1").card_sha256 == sha256_hex(
        (store_root / "models/fraud/v1/card.json").read_bytes()
    )


def test_a_skipped_run_repairs_a_pointer_left_behind_by_a_crash(
    champion_home: Path, store_root: Path, retrain: Run
) -> None:
    path = store_root / "models" / "fraud" / "champion.json"
    current = json.loads(path.read_text())
    path.write_text(json.dumps({**current, "generation": 0, "version": "v0"}))  # behind

    assert retrain()["outcome"] == "skipped"

    repaired = json.loads(path.read_text())
    assert (repaired["version"], repaired["generation"]) == ("v1", current["generation"])
