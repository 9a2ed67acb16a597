"""Training on a Dask cluster (``RETRAIN_DASK_ADDRESS``): lightgbm.dask on rows already on
the workers, one block per worker.

A binary model's blocks are prepared on the workers themselves (cluster_data.py); a
ranker's matrices are prepared where the flow runs (its candidates need every user's
history against the whole catalogue) and scattered over the workers in equal contiguous
blocks, in the order of the workers' addresses, ending on query-group boundaries. Then
``DaskLGBMClassifier`` or ``DaskLGBMRanker`` trains data-parallel. LightGBM's
Dask interface has no early stopping, so every round is trained and the round is chosen
afterwards on the whole validation split (tasks/core/gate/rounds.py); the model text is cut
there as it is locally. The same partitions on a cluster of the same size give the same
model text (``deterministic``); a different worker count gives a different (equally valid)
model. No checkpoints are written on a cluster: a run that loses a worker fails and its
rerun starts again.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from schemas.errors import RetrainError
from schemas.specs import ModelSpec, Task
from tasks.core.gate.rounds import early_stopped, metric_of
from tasks.core.train.booster import Fitted, Matrix, booster_params

CONNECT_SECONDS = 30
LOGGER = logging.getLogger("lightgbm")


class _Expected(logging.Filter):
    """lightgbm.dask warns that the sklearn wrapper's ``n_jobs`` is ignored on every fit
    (each worker uses its own thread count, as intended): not news to anyone."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Parameter n_jobs will be ignored" not in record.getMessage()


LOGGER.addFilter(_Expected())


def fit_on_dask(
    spec: ModelSpec,
    train: Matrix,
    valid: Matrix,
    feature_names: list[str],
    categorical: list[int],
    address: str,
) -> Fitted:
    """Train ``spec`` on the cluster at ``address`` on matrices prepared here (scattered
    over the workers); the card's engine says where.

    Raises:
        RetrainError: the scheduler cannot be reached, or it has no worker.
    """
    dask_params(spec)
    with session(address) as (client, workers):
        placed = _scattered(client, train, workers)
        columns = (feature_names, categorical)
        return fit_placed(client, workers, spec, placed, valid, columns, address)


def dask_params(spec: ModelSpec) -> dict[str, Any]:
    """The booster's parameters on a cluster (each worker its own threads), after checking
    that the round can be chosen by their metric (before the cluster does any work)."""
    params = {k: v for k, v in booster_params(spec).items() if k != "num_threads"}
    metric_of(params)
    return params


@contextmanager
def session(address: str) -> Iterator[tuple[Any, list[str]]]:
    """A client of the scheduler at ``address`` and its workers' addresses, sorted (block
    *i* of the data goes to worker *i*); the client is the default while it is open
    (lightgbm.dask waits on the default client).

    Raises:
        RetrainError: the scheduler cannot be reached, or it has no worker.
    """
    client = connect(address)
    _order_who_has(client)
    with client:
        yield client, _workers(client, address)


def fit_placed(
    client: Any,
    workers: list[str],
    spec: ModelSpec,
    data: tuple[Any, Any, Any],
    valid: Matrix,
    columns: tuple[list[str], list[int]],
    address: str,
) -> Fitted:
    """Fit on Dask arrays already on the workers (``data``: rows, labels and, for a ranker,
    group sizes), then choose the round on ``valid`` and cut the model text there."""
    import lightgbm as lgb

    # lightgbm.dask prints its progress ("Finding random open ports...") to stdout, which
    # would corrupt `--json` output: route LightGBM's messages to logging instead.
    lgb.register_logger(LOGGER)
    params = dask_params(spec)
    x, y, group = data
    kind = lgb.DaskLGBMRanker if spec.task == Task.RANKING else lgb.DaskLGBMClassifier
    model = kind(client=client, n_estimators=spec.lightgbm.num_boost_round, **params)
    extra = {"group": group} if group is not None else {}
    model.fit(x, y, feature_name=columns[0], categorical_feature=columns[1], **extra)
    booster = lgb.Booster(model_str=without_network(model.booster_.model_to_string()))
    progress = early_stopped(booster, valid, params, spec.lightgbm.early_stopping_rounds)
    # The booster the gate scores with is the one stored: cut at the chosen round (locally,
    # LightGBM's early stopping leaves the booster predicting with that round).
    cut = lgb.Booster(model_str=booster.model_to_string(num_iteration=progress.best_round))
    engine = {"kind": "dask", "workers": len(workers), "scheduler": address}
    return Fitted(cut, progress, None, engine)


def connect(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``.

    Raises:
        RetrainError: the address is malformed or nothing answers there in CONNECT_SECONDS.
    """
    from distributed import Client

    before = _default_client()
    try:
        return Client(address, timeout=CONNECT_SECONDS)
    except ValueError as exc:  # distributed's parse of the address
        _close_left_behind(before)
        raise RetrainError(
            f"RETRAIN_DASK_ADDRESS {address!r} is not a scheduler address (tcp://host:8786): {exc}"
        ) from exc
    except (OSError, TimeoutError) as exc:
        _close_left_behind(before)
        raise RetrainError(
            f"cannot reach the Dask scheduler at {address} (RETRAIN_DASK_ADDRESS): {exc}"
        ) from exc


def _default_client() -> Any:
    from distributed import default_client

    try:
        return default_client()
    except ValueError:  # no client in this process
        return None


def _close_left_behind(before: Any) -> None:
    """Close the client a failed connection left as the process's default, if any.

    distributed makes a new client the default before it connects, and one whose address
    it could not parse stays the default: later work in the same process (prefect-dask's
    task runner, lightgbm.dask; a served deployment's next run) would be sent to it.
    """
    left = _default_client()
    if left is not None and left is not before:
        left.close()


def workers_of(address: str) -> int:
    """How many workers the scheduler at ``address`` has (RetrainError: none, or no scheduler)."""
    with connect(address) as client:
        return len(_workers(client, address))


def _workers(client: Any, address: str) -> list[str]:
    found = sorted(client.scheduler_info(n_workers=-1)["workers"])
    if not found:
        raise RetrainError(f"the Dask scheduler at {address} (RETRAIN_DASK_ADDRESS) has no worker")
    return found


def _order_who_has(client: Any) -> None:
    """Make ``client.who_has(futures)`` answer in the order of ``futures``.

    lightgbm.dask ranks the workers in the order ``who_has`` lists the data's parts, and
    distributed's client asks the scheduler for a *set* of keys, so that order follows
    Python's per-process string hashing: the same blocks got different ranks from one run to
    the next, and with them different bin boundaries and trees. In the parts' order, block 0's
    worker is rank 0 on every run.
    """
    asked = client.who_has

    def who_has(futures: Any = None, **kwargs: Any) -> Any:
        found = asked(futures, **kwargs)
        if futures is None:
            return found
        keys = [f.key for f in futures]
        return type(found)({key: found[key] for key in keys if key in found})

    client.who_has = who_has


def without_network(text: str) -> str:
    """Model text without the ports LightGBM's network happened to listen on this run (its
    trees and every other parameter unchanged): the same data gives the same bytes."""
    text = re.sub(r"^\[machines: .*\]$", "[machines: ]", text, flags=re.MULTILINE)
    return re.sub(
        r"^\[local_listen_port: \d+\]$", "[local_listen_port: 12400]", text, flags=re.MULTILINE
    )


def block_bounds(train: Matrix, blocks: int) -> list[tuple[int, int, int, int]]:
    """(first row, end row, first group, end group) of each of ``blocks`` contiguous blocks
    of about equal rows; with query groups, blocks end on a group's boundary (a group is
    never split across workers). A block may be empty when groups are few."""
    rows = len(train.y)
    if train.group_sizes is None:
        edges = np.linspace(0, rows, blocks + 1).round().astype(int)
        return [(int(a), int(b), 0, 0) for a, b in itertools.pairwise(edges)]
    row_of = np.r_[0, np.cumsum(train.group_sizes)]  # first row of each group, and the end
    targets = np.linspace(0, rows, blocks + 1)[1:-1]
    cuts = [int(np.abs(row_of - target).argmin()) for target in targets]  # nearest boundary
    group_edges = [0, *np.maximum.accumulate(cuts).tolist(), len(row_of) - 1]
    return [
        (int(row_of[g0]), int(row_of[g1]), int(g0), int(g1))
        for g0, g1 in itertools.pairwise(group_edges)
    ]


def _scattered(client: Any, train: Matrix, workers: list[str]) -> tuple[Any, Any, Any]:
    """Dask arrays of the rows, labels and (ranking) group sizes, block ``i`` held by worker
    ``i`` (pinned, so every worker trains and the partitioning does not depend on the
    scheduler's placement)."""
    import dask.array as da

    def put(values: np.ndarray, worker: str) -> Any:
        future = client.scatter(values, workers=[worker], direct=True)
        return da.from_delayed(future, shape=values.shape, dtype=values.dtype)

    blocks: list[tuple[Any, Any, Any]] = []
    bounds = block_bounds(train, len(workers))
    for worker, (start, end, g0, g1) in zip(workers, bounds, strict=True):
        if end == start:
            continue  # fewer groups than workers: this worker sits this one out
        group = None if train.group_sizes is None else put(train.group_sizes[g0:g1], worker)
        blocks.append((put(train.x[start:end], worker), put(train.y[start:end], worker), group))
    x, y, groups = zip(*blocks, strict=True)
    group_array = None if train.group_sizes is None else da.concatenate(groups)
    return da.concatenate(x), da.concatenate(y), group_array
