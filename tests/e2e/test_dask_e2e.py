"""End to end on a real Dask cluster: `dask scheduler` and two `dask worker` processes on
127.0.0.1, and `retrain ingest` (each file a task on a worker, reporting to the command's
temporary Prefect API) and `retrain train fraud` pointed at them by RETRAIN_DASK_ADDRESS."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers.samples import Landing, relaxed_fraud_spec
from tests.helpers.services import BIN, base_env, free_port, start, wait_for

pytestmark = pytest.mark.e2e


def _workers(address: str) -> int:
    from distributed import Client

    with Client(address, timeout=10) as client:
        return len(client.scheduler_info(n_workers=-1)["workers"])


def test_retrain_trains_on_a_real_dask_cluster(tmp_path: Path) -> None:
    import datetime as dt

    from tasks.samples import transaction_files

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = base_env(tmp_path / "prefect-home")
    dask = str(BIN / "dask")
    scheduler = start(
        "dask scheduler",
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
         "--dashboard-address", "127.0.0.1:0"],  # its HTTP routes: any free port
        env, tmp_path / "scheduler.log",
    )  # fmt: skip
    worker = [dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"]
    workers = [
        start(f"dask worker {i}", [*worker, "--name", f"w{i}"], env, tmp_path / f"w{i}.log")
        for i in range(2)
    ]
    try:
        wait_for("two workers", lambda: _workers(address) == 2, 90, scheduler, *workers)
        specs = tmp_path / "specs"
        (specs / "models").mkdir(parents=True)
        spec = yaml.safe_dump(relaxed_fraud_spec())
        (specs / "models" / "fraud.yaml").write_text(spec, "utf-8")
        landing = Landing(tmp_path / "home", specs)
        for day, named in transaction_files(4, dt.date(2026, 10, 1), 7, 1500).items():
            landing.drop(day, named)
        home = {"RETRAIN_HOME": str(landing.home), "RETRAIN_SPECS_DIR": str(specs),
                "RETRAIN_DASK_ADDRESS": address}  # fmt: skip
        for command in (["ingest", "transactions"], ["train", "fraud", "--json"]):
            done = subprocess.run(
                [str(BIN / "retrain"), *command], env={**env, **home}, capture_output=True,
                text=True, timeout=300, check=False,
            )  # fmt: skip
            assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert json.loads(done.stdout)["outcome"] == "promoted", done.stdout
        card = json.loads((landing.home / "store/models/fraud/v1/card.json").read_text())
        assert card["training"]["engine"] == {"kind": "dask", "workers": 2, "scheduler": address}
        logs = "".join(w.log.read_text(encoding="utf-8", errors="replace") for w in workers)
        assert logs.count(": accepted, 1500 rows") == 4, "each file validated on a worker"
        for worker in workers:
            worker.check_alive()
    finally:
        for service in (*workers, scheduler):
            service.stop()
