"""Ingestion and training on a Dask cluster (issue 11, part 3): ``distributed.LocalCluster``
with two single-threaded worker processes on 127.0.0.1, through ``RETRAIN_DASK_ADDRESS``."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.helpers.samples import Sample
from tests.helpers.services import local_cluster
from tests.helpers.store import refuse_loading

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster_address() -> Iterator[str]:
    with local_cluster() as cluster:
        yield cluster.scheduler_address


def _matrices() -> tuple[Any, Any]:
    from tasks.core.train.booster import Matrix

    rng = np.random.default_rng(0)
    x, xv = rng.random((4000, 5)), rng.random((1500, 5))
    y, yv = ((m[:, 0] + 0.4 * rng.random(len(m)) > 0.95).astype(float) for m in (x, xv))
    return Matrix(x, y), Matrix(xv, yv)


def test_both_workers_train_and_the_same_partitions_give_the_same_model(
    cluster_address: str,
) -> None:
    from schemas.specs import load_model_spec
    from tasks.io.cluster import fit_on_dask

    spec = load_model_spec("fraud")
    train, valid = _matrices()
    names = [f"f{i}" for i in range(5)]

    first = fit_on_dask(spec, train, valid, names, [], cluster_address)
    second = fit_on_dask(spec, train, valid, names, [], cluster_address)

    assert first.engine == {"kind": "dask", "workers": 2, "scheduler": cluster_address}
    assert first.text == second.text  # byte for byte: the network's ports are not in it
    assert "[machines: ]" in first.text
    assert "num_machines: 2" in first.booster.model_to_string()
    progress = first.progress
    assert 0 < progress.best_round < progress.rounds <= spec.lightgbm.num_boost_round
    assert first.text.count("Tree=") == progress.best_round  # cut at the chosen round
    assert first.booster.num_trees() == progress.best_round  # and so is what the gate scores


def test_a_ranker_trains_on_both_workers_with_whole_query_groups(cluster_address: str) -> None:
    from schemas.specs import load_model_spec
    from tasks.core.train.booster import Matrix
    from tasks.io.cluster import block_bounds, fit_on_dask

    rng = np.random.default_rng(4)

    def ranking(groups: int) -> Matrix:
        sizes = rng.integers(5, 25, groups)
        x = rng.random((int(sizes.sum()), 4))
        y = np.clip(np.round(3 * x[:, 0] + rng.normal(0, 0.6, len(x))), 0, 3)
        return Matrix(x, y, sizes)

    train, valid = ranking(400), ranking(150)
    spec = load_model_spec("recs")
    names = [f"f{i}" for i in range(4)]

    first = fit_on_dask(spec, train, valid, names, [], cluster_address)
    second = fit_on_dask(spec, train, valid, names, [], cluster_address)

    assert first.engine["workers"] == 2
    assert "objective=lambdarank" in first.text
    assert first.text == second.text
    assert first.text.count("Tree=") == first.progress.best_round
    bounds = block_bounds(train, 2)
    assert bounds[0][:2] == (0, bounds[1][0]) and bounds[-1][1] == len(train.y)
    assert bounds[0][3] == bounds[1][2]  # the second block starts at a group's first row
    assert int(train.group_sizes[: bounds[0][3]].sum()) == bounds[0][1]


def test_block_bounds_split_rows_evenly_and_never_a_query_group() -> None:
    from tasks.core.train.booster import Matrix
    from tasks.io.cluster import block_bounds

    plain = Matrix(np.zeros((10, 1)), np.zeros(10))
    assert block_bounds(plain, 3) == [(0, 3, 0, 0), (3, 7, 0, 0), (7, 10, 0, 0)]
    grouped = Matrix(np.zeros((10, 1)), np.zeros(10), np.array([4, 4, 2]))
    assert block_bounds(grouped, 2) == [(0, 4, 0, 1), (4, 10, 1, 3)]
    few = Matrix(np.zeros((9, 1)), np.zeros(9), np.array([9]))
    assert block_bounds(few, 2) == [(0, 0, 0, 0), (0, 9, 0, 1)]  # one group: one block


def test_an_unreachable_scheduler_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from distributed import default_client

    from schemas.errors import RetrainError
    from schemas.specs import load_model_spec
    from tasks.io import cluster

    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1)
    train, valid = _matrices()
    with pytest.raises(RetrainError, match=r"tcp://127.0.0.1:9 \(RETRAIN_DASK_ADDRESS\)"):
        cluster.fit_on_dask(load_model_spec("fraud"), train, valid, [], [], "tcp://127.0.0.1:9")
    with pytest.raises(RetrainError, match=r"RETRAIN_DASK_ADDRESS 'no-port' is not a scheduler"):
        cluster.workers_of("no-port")
    with pytest.raises(ValueError, match="No clients found"):  # none left behind as default
        default_client()


def test_ingestion_with_no_cluster_there_fails_first_and_touches_no_file(
    env: Path,
    sample: Sample,
    ingest: Callable[[], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    registry: Any,
) -> None:
    from schemas.errors import RetrainError
    from tasks.io import cluster
    from tests.helpers.store import tree

    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1)
    monkeypatch.setenv("RETRAIN_DASK_ADDRESS", "tcp://127.0.0.1:9")
    sample.land(sample.backfill)
    before = tree(env / "store")

    with pytest.raises(RetrainError, match="cannot reach the Dask scheduler"):
        ingest()

    assert tree(env / "store") == before  # no partition, no quarantine: all still to ingest
    assert registry.latest_dataset_version("transactions") is None
    monkeypatch.delenv("RETRAIN_DASK_ADDRESS")
    assert ingest()["version"]["version"] == "v1"  # the same files, once the setting is fixed


def test_the_retraining_flow_trains_on_the_cluster_and_the_card_says_so(
    cluster_address: str,
    env: Path,
    sample: Sample,
    ingest: Callable[[], dict[str, Any]],
    retrain: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("RETRAIN_DASK_ADDRESS", cluster_address)
    sample.land(sample.backfill)
    assert ingest()["version"]["version"] == "v1"
    refuse_loading(monkeypatch)
    caplog.set_level(logging.INFO, logger="prefect")
    result = retrain()

    assert result["outcome"] == "promoted", result
    card = json.loads((env / "store/models/fraud/v1/card.json").read_text())
    engine = card["training"]["engine"]
    assert engine == {"kind": "dask", "workers": 2, "scheduler": cluster_address}
    assert card["training"]["resumed_from_round"] is None
    assert not list((env / "store").glob("checkpoints/**/*.txt"))  # none on a cluster
    page = (env / "store/reports/fraud/v1/report.html").read_text(encoding="utf-8")
    assert f"Dask cluster: 2 workers, scheduler {cluster_address}" in page
    said = f"on the Dask cluster at {cluster_address}: its workers read the 3 partition(s)"
    assert said in caplog.text


def test_ingestion_validates_each_file_as_a_task_on_the_cluster(
    cluster_address: str,
    env: Path,
    sample: Sample,
    ingest: Callable[[], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from distributed import Client

    monkeypatch.setenv("RETRAIN_DASK_ADDRESS", cluster_address)
    with Client(cluster_address) as client:
        before = client.run_on_scheduler(_ingest_tasks_seen)
    landed = sample.land(sample.backfill)
    bad = env / "store/landing/transactions/2026-10-02/broken.csv"
    bad.write_bytes(b"transaction_id,amount\n1,not-a-number\n")

    result = ingest()

    assert result["version"]["version"] == "v1"
    statuses = {Path(f["uri"]).name: f["status"] for f in result["files"]}
    assert statuses.pop("broken.csv") == "quarantined"
    assert set(statuses.values()) == {"accepted"} and len(statuses) == len(landed)
    with Client(cluster_address) as client:
        ran = client.run_on_scheduler(_ingest_tasks_seen) - before
    assert ran == len(landed) + 1, "every file is validated by a task on the cluster"


def _ingest_tasks_seen(dask_scheduler: Any) -> int:
    """Tasks of ``ingest_file`` the scheduler has seen finish (runs on the scheduler; a
    prefix's ``state_counts`` counts every entry into a state, so "memory" once per task)."""
    return sum(
        prefix.state_counts.get("memory", 0)
        for name, prefix in dask_scheduler.task_prefixes.items()
        if name == "ingest_file"
    )


@dataclass(frozen=True)
class _Version:
    """The latest transactions version as the flow sees it, and prepared here."""

    frame: pd.DataFrame
    order: tuple[str, list[str]]
    partitions: list[tuple[str, str]]
    settings: Any

    def here(self, spec: Any) -> Any:
        from tasks.core.train.binary import prepare_binary

        return prepare_binary(self.frame, spec, *self.order)

    def cluster(self, address: str, spec: Any, champion: Any = None) -> Any:
        from tasks.io.cluster_data import ClusterTraining

        return ClusterTraining(address, spec, self.order, self.partitions, self.settings, champion)


def _latest_version() -> _Version:
    import logging

    from schemas.contracts import load_contract
    from schemas.settings import load_settings
    from tasks.io import datasets
    from tasks.io.runtime import runtime

    settings = load_settings()
    version = runtime(settings).registry.latest_dataset_version("transactions").version
    frames = datasets.load_frames({"transactions": version}, settings, logging.getLogger())
    contract = load_contract("transactions", settings.specs_dir)
    manifest = datasets.load_manifest("transactions", version, settings)
    parts = [(p["key"], p["sha256"]) for p in manifest["partitions"]]
    order = (contract.require_event_time(), contract.row_keys())
    return _Version(frames["transactions"], order, parts, settings)


def _sorted_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    rows = np.nan_to_num(np.column_stack([x, y]), nan=-1e300)
    return rows[np.lexsort(rows.T[::-1])]


def test_the_cluster_prepares_what_one_machine_prepares_and_trains_reproducibly(
    cluster_address: str, env: Path, sample: Sample, ingest: Callable[[], dict[str, Any]]
) -> None:
    from schemas.specs import Features, load_model_spec
    from tasks.core.train.prepared import holdout_built

    sample.land(sample.backfill)
    assert ingest()["version"]["version"] == "v1"
    version = _latest_version()
    spec = load_model_spec("fraud", version.settings.specs_dir)
    champion = Features(numeric=["amount", "customer_age"])  # no builder: its own holdout
    here = version.here(spec)

    with version.cluster(cluster_address, spec, champion) as training:
        there = training.prepare()
        fitted = training.fit(there)

    assert there.windows == here.windows and there.encoding == here.encoding
    assert there.encoding.categorical  # vocabularies joined from both blocks
    assert there.rows == here.rows and there.slice_columns == here.slice_columns
    assert there.fingerprint == here.fingerprint  # the same holdout, row for row
    for split in ("valid", "test"):
        np.testing.assert_array_equal(getattr(there, split).x, getattr(here, split).x)
        np.testing.assert_array_equal(getattr(there, split).y, getattr(here, split).y)
    pd.testing.assert_frame_equal(there.test_frame, here.test_frame)
    assert len(there.train.y) == here.rows["train"] < 50_000  # the sample is every row here
    np.testing.assert_array_equal(  # the same training rows, each with the same features
        _sorted_rows(there.train.x, there.train.y), _sorted_rows(here.train.x, here.train.y)
    )
    assert training.champion_holdout is not None
    own = holdout_built(champion, version.frame, here.test_rows)
    pd.testing.assert_frame_equal(training.champion_holdout[own.columns], own)
    assert fitted.engine == {"kind": "dask", "workers": 2, "scheduler": cluster_address}
    assert fitted.text.count("Tree=") == fitted.progress.best_round

    with version.cluster(cluster_address, spec) as again:
        assert again.fit(again.prepare()).text == fitted.text  # same partitions, same workers
        assert again.champion_holdout is None  # no champion


def test_too_little_data_on_the_cluster_is_not_enough_data(
    cluster_address: str, env: Path, sample: Sample, ingest: Callable[[], dict[str, Any]]
) -> None:
    from schemas.specs import load_model_spec
    from tasks.core.train.prepared import NotEnoughData

    sample.land(sample.backfill)
    ingest()
    version = _latest_version()
    spec = load_model_spec("fraud", version.settings.specs_dir)
    spec = spec.model_copy(update={"split": spec.split.model_copy(update={"min_rows": 10**6})})
    training = version.cluster(cluster_address, spec)
    with training, pytest.raises(NotEnoughData, match=r"train window has \d+ rows and \d+ pos"):
        training.prepare()


@pytest.mark.parametrize("engine", ["here", "dask"])
def test_a_champion_built_by_another_builder_is_judged_on_its_own_features(
    engine: str,
    cluster_address: str,
    env: Path,
    sample: Sample,
    ingest: Callable[[], dict[str, Any]],
    retrain: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The spec drops its builder: the champion (built with it) is scored on the holdout
    with its own history features, built here from the loaded frame or on the cluster."""
    import yaml

    from tests.helpers.samples import relaxed_fraud_spec

    if engine == "dask":
        monkeypatch.setenv("RETRAIN_DASK_ADDRESS", cluster_address)
    sample.land(sample.backfill)
    ingest()
    first = retrain()
    assert first["outcome"] == "promoted", first
    spec = relaxed_fraud_spec()
    spec["features"] = {"numeric": ["amount", "customer_age"], "categorical": ["channel"]}
    (tmp_path / "specs" / "models").mkdir(parents=True)
    (tmp_path / "specs" / "models" / "fraud.yaml").write_text(yaml.safe_dump(spec), "utf-8")
    monkeypatch.setenv("RETRAIN_SPECS_DIR", str(tmp_path / "specs"))

    second = retrain()

    assert second["version"] == "v2" and second["previous_champion"] == "v1", second
    assert second["champion_metrics"] == first["metrics"]  # the same rows, the same scores


def test_a_worker_leaving_while_its_block_is_prepared_fails_the_run_instead_of_waiting(
    env: Path,
    sample: Sample,
    ingest: Callable[[], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A block's tasks are pinned to its worker: when that worker is gone (a spot node
    reclaimed), they would wait for it forever; the wait notices and fails the run."""
    from distributed import Client

    from schemas.errors import RetrainError
    from schemas.specs import load_model_spec
    from tasks.io import cluster_data

    monkeypatch.setattr(cluster_data, "WATCH_SECONDS", 0.2)
    sample.land(sample.backfill)
    ingest()
    version = _latest_version()
    spec = load_model_spec("fraud", version.settings.specs_dir)
    with local_cluster() as cluster:
        training = version.cluster(cluster.scheduler_address, spec)
        with training, Client(cluster.scheduler_address) as other:
            gone = training.workers[1]
            other.retire_workers(workers=[gone], close_workers=True)
            with pytest.raises(RetrainError, match=f"worker\\(s\\) {gone} left the cluster"):
                training.prepare()
