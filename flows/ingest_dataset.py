"""Flow: ingest new landing files of one dataset into a new dataset version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Completed

from schemas.params import IngestParams
from schemas.settings import load_settings
from tasks.steps.ingest import (
    absorb_waiting_runs,
    commit_dataset_version,
    ingest_file,
    list_new_files,
    reach_cluster,
)
from tasks.steps.naming import refuse_foreign_target, run_name
from tasks.steps.reports import ingest_message, publish_ingest_report


@flow(name="ingest-dataset", flow_run_name=run_name("ingest", "dataset"), log_prints=False)
def ingest_dataset(params: IngestParams) -> dict[str, Any]:
    """Validate each new landing file; accepted ones become the next dataset version."""
    refuse_foreign_target("dataset", params.dataset)  # a deployment is for one dataset
    absorbed = absorb_waiting_runs(params.dataset)  # before listing: their files are listed
    settings, now = load_settings(), datetime.now(UTC)
    keys = list_new_files(params.dataset, settings)
    if settings.dask_address and keys:
        reach_cluster(settings.dask_address)
        outcomes = validate_on_cluster(params.dataset, keys, settings.dask_address, now)
    else:
        outcomes = [ingest_file(params.dataset, key, settings, now) for key in keys]
    accepted = [o for o in outcomes if o.status == "accepted"]
    version, refused = (
        commit_dataset_version(params.dataset, accepted, settings, now) if accepted else (None, [])
    )
    at_commit = {o.uri: o for o in refused}  # repeated primary keys, found at commit
    outcomes = [at_commit.get(o.uri, o) for o in outcomes]
    accepted = [o for o in outcomes if o.status == "accepted"]
    get_run_logger().info(
        "%s: %d new file(s), %d accepted, %d quarantined, version %s",
        params.dataset,
        len(outcomes),
        len(accepted),
        sum(o.status == "quarantined" for o in outcomes),
        version["version"] if version else "unchanged",
    )
    result = {
        "dataset": params.dataset,
        "files": [o.to_dict() for o in outcomes],
        "version": version,
        "absorbed_runs": absorbed,
    }
    publish_ingest_report(result)
    return Completed(message=ingest_message(result), data=result)  # type: ignore[return-value]


@flow(name="validate-files", flow_run_name="validate-{dataset}-on-dask", log_prints=False)
def validate_files(dataset: str, keys: list[str], now: datetime) -> list[Any]:
    """Each new file validated by its own task on the Dask cluster, in parallel (what each
    task does is what ingestion does on one machine); outcomes in the files' order."""
    settings = load_settings()
    futures = [ingest_file.submit(dataset, key, settings, now) for key in keys]
    return [future.result() for future in futures]


def validate_on_cluster(dataset: str, keys: list[str], address: str, now: datetime) -> list[Any]:
    """``validate_files`` as a subflow whose tasks run on the cluster at ``address``
    (prefect-dask's ``DaskTaskRunner``); the subflow run shows in the UI under this one."""
    from prefect_dask import DaskTaskRunner

    runner = DaskTaskRunner(address=address)
    subflow = validate_files.with_options(task_runner=runner)  # type: ignore[arg-type]
    outcomes: list[Any] = subflow(dataset, keys, now)
    return outcomes
