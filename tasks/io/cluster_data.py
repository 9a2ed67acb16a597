"""A binary model prepared and trained on the Dask cluster, its data never gathered whole.

The workers read the dataset version's curated Parquet partitions from the store (each
one's sha256 verified, with the run's own store settings: a local folder or S3 with the
same credentials and endpoint) as one Dask DataFrame; it is shuffled by the builder's
history key (the row key when there is no builder) into one block per worker, block *i*
computed on the *i*-th worker by address; there each block is sorted, built, split and
encoded (tasks/core/train/blocks.py). The training rows stay on the workers, where
``lightgbm.dask`` trains on them; the validation and test rows, and a seeded sample of
training rows for the linear baseline, come to the flow, put back in the dataset's order.

The same partitions on a cluster of the same size give the same blocks and the same model.
"""

from __future__ import annotations

from itertools import pairwise
from operator import attrgetter
from typing import Any

import numpy as np
import pandas as pd

from schemas.errors import RetrainError, StoreError
from schemas.settings import Settings
from schemas.specs import Features, ModelSpec
from tasks.core.gate.measure import needs_own_holdout
from tasks.core.ingest import manifests
from tasks.core.sampling import sample_positions
from tasks.core.train import blocks
from tasks.core.train import features as feats
from tasks.core.train.binary import require_windows
from tasks.core.train.booster import Fitted, Matrix
from tasks.core.train.linear import MAX_ROWS
from tasks.core.train.prepared import NotEnoughData, Prepared, fingerprint_rows
from tasks.io import cluster
from tasks.io.stores import ObjectStore, open_store

WATCH_SECONDS = 5.0  # how often a wait for the blocks checks that their workers are there
_STORES: dict[tuple[str, str | None], ObjectStore] = {}


def read_partition(part: tuple[str, str], where: tuple[str, str | None]) -> pd.DataFrame:
    """One curated partition (``(key, sha256)``), verified, as a frame (runs on a worker).

    ``where``: the store's URL and KMS key id, all a worker is sent of the settings (the
    registry's URL, which may hold a password, stays with the flow)."""
    key, sha256 = part
    if where not in _STORES:  # one client per worker process, not one per partition
        _STORES[where] = open_store(*where)
    try:
        data = _STORES[where].get_bytes(key, sha256=sha256)
    except StoreError as exc:  # say where: the flow's own machine may read it fine
        raise type(exc)(f"{exc} (read by {_reader()} from {where[0]})") from exc
    return manifests.frame_of_partitions([data])


def _reader() -> str:
    from distributed import get_worker

    try:
        return f"Dask worker {get_worker().address}"
    except ValueError:  # not on a worker: the flow reading the frame's types
        return "the flow"


class ClusterTraining:
    """One binary model's preparation and fit in one session with the cluster.

    ``order``: the dataset's event-time column and row key; ``partitions``: its version's
    ``(key, sha256)`` pairs; ``champion``: the champion's features, when there is one (its
    holdout is built on the cluster too when its builder differs).
    """

    def __init__(
        self,
        address: str,
        spec: ModelSpec,
        order: tuple[str, list[str]],
        partitions: list[tuple[str, str]],
        settings: Settings,
        champion: Features | None = None,
    ) -> None:
        self.address, self.spec, self.order = address, spec, order
        self.partitions, self.settings, self.champion = partitions, settings, champion
        self.champion_holdout: pd.DataFrame | None = None
        self._session: Any = None
        self._train: list[tuple[Any, Any, int]] = []  # per worker: rows, labels, row count

    def __enter__(self) -> ClusterTraining:
        cluster.dask_params(self.spec)  # a metric to choose the round by, before any work
        self._session = cluster.session(self.address)
        self.client, self.workers = self._session.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._train = []
        self._session.__exit__(*exc)

    def _each(self, func: Any, futures: list[Any], *args: Any) -> list[Any]:
        """``func(block, *args)`` on each block's own worker (futures stay there)."""
        return [
            self.client.submit(func, f, *args, workers=[w], allow_other_workers=False, pure=False)
            for f, w in zip(futures, self.workers, strict=True)
        ]

    def _gather(self, func: Any, futures: list[Any], *args: Any) -> list[Any]:
        """The answers of ``func`` on every block (see :meth:`_answers`)."""
        return self._answers(self._each(func, futures, *args))

    def _answers(self, futures: list[Any]) -> list[Any]:
        """The futures' results, failing when a block's worker leaves.

        Raises:
            RetrainError: a worker holding a block left the cluster (a spot node reclaimed):
                its tasks, pinned to it, would otherwise wait for it forever.
        """
        answers = []
        for future in futures:
            while True:
                try:
                    answers.append(future.result(timeout=WATCH_SECONDS))
                    break
                except TimeoutError:
                    self._require_workers()
        return answers

    def _require_workers(self) -> None:
        present = set(self.client.scheduler_info(n_workers=-1)["workers"])
        gone = [w for w in self.workers if w not in present]
        if gone:
            raise RetrainError(
                f"Dask worker(s) {', '.join(gone)} left the cluster at {self.address} while"
                f" preparing {self.spec.name}'s data there: this run fails, its rerun starts again"
            )

    def prepare(self) -> Prepared:
        """Read, shuffle, build, split and encode on the cluster.

        Raises:
            NotEnoughData: a split has too few rows or no positive.
        """
        import dask
        import dask.dataframe as dd

        spec, (time_col, keys) = self.spec, self.order
        if not self.partitions:
            raise NotEnoughData("the dataset version has no partition")
        # Dask would convert the partitions' strings to its own string type (missing values
        # as NA, not NaN): the blocks keep the types the whole-frame path reads.
        with dask.config.set({"dataframe.convert-string": False}):
            # the frame's columns and types from one partition read here (0.02 s at 72,000
            # rows): left to infer them, Dask took 1.6 s to build the graph
            where = (self.settings.object_store_url, self.settings.s3_kms_key_id)
            meta = read_partition(self.partitions[0], where).iloc[:0]
            frame = dd.from_map(read_partition, self.partitions, where=where, meta=meta)
            by = self._history_key() or keys
            shuffled = frame.shuffle(by, npartitions=len(self.workers), shuffle_method="tasks")
            raw = self.client.compute(shuffled.to_delayed())
        built = self._each(blocks.built_block, raw, spec, time_col, keys)
        del raw  # the built blocks hold the rows now
        windows = blocks.windows_of(self._gather(blocks.latest, built, time_col), spec)
        summaries = self._gather(blocks.block_summary, built, windows, spec, time_col)
        rows, positives = blocks.totals(summaries)
        require_windows(rows, positives, spec.split.min_rows)
        (shape,) = self._answers([self.client.submit(blocks.shape_of, built[0])])
        encoding = blocks.encoding_of(shape, summaries)
        if self.champion is not None and needs_own_holdout(spec, self.champion):
            champion = self._gather(blocks.holdout_of, built, self.champion, windows, time_col)
        else:
            champion = None
        split = self._each(blocks.block_split, built, windows, spec, self.order, encoding)
        del built
        valid_parts = self._gather(attrgetter("valid", "valid_keys"), split)
        valid, _, _ = blocks.merged(valid_parts, *self.order)
        test, test_frame, order = blocks.merged(
            self._gather(attrgetter("test", "test_frame"), split), *self.order
        )
        if champion is not None:  # the same rows in the same order
            joined = pd.concat(champion, ignore_index=True)
            self.champion_holdout = joined.iloc[order].reset_index(drop=True)
        counts = [s.rows["train"] for s in summaries]
        xs, ys = self._each(attrgetter("train.x"), split), self._each(attrgetter("train.y"), split)
        self._train = list(zip(xs, ys, counts, strict=True))  # they stay on the workers
        return Prepared(
            windows, encoding, self._sample(split, counts), valid, test, test_frame,
            np.arange(len(test.y)), [c for c in spec.policy_slice_columns() if c in test_frame],
            fingerprint_rows(test_frame[keys], test.y), train_rows=rows["train"],
        )  # fmt: skip

    def _history_key(self) -> str | None:
        """The column a block must hold whole entities of: the spec's builder's, else that of
        the champion's builder when its holdout is built too (None: any row may go anywhere)."""
        builders = [self.spec.features.builder]
        if self.champion is not None and needs_own_holdout(self.spec, self.champion):
            builders.append(self.champion.builder)
        return next((feats.HISTORY_KEYS[b] for b in builders if b is not None), None)

    def _sample(self, split: list[Any], counts: list[int]) -> Matrix:
        """A seeded sample of the training rows, as many as the linear baseline fits on
        (positions in the blocks' training rows one after the other)."""
        positions = sample_positions(sum(counts), MAX_ROWS, self.spec.seed)
        edges = np.cumsum([0, *counts])
        local = [positions[(positions >= a) & (positions < b)] - a for a, b in pairwise(edges)]
        futures = [
            self.client.submit(blocks.training_rows, f, p, workers=[w])
            for f, p, w in zip(split, local, self.workers, strict=True)
        ]
        parts = self._answers(futures)
        return Matrix(np.vstack([m.x for m in parts]), np.concatenate([m.y for m in parts]))

    def fit(self, prepared: Prepared, run_id: int | None = None) -> Fitted:
        """Train on the blocks' training rows where they lie; the round is chosen on the
        validation rows at the flow (tasks/io/cluster.py). No checkpoints on a cluster, so
        the training run (``run_id``) records none."""
        import dask.array as da

        self._require_workers()  # the training rows' futures are pinned to their workers
        width, kept = len(prepared.encoding.names), [t for t in self._train if t[2]]
        x = da.concatenate([da.from_delayed(f, shape=(n, width), dtype=float) for f, _, n in kept])
        y = da.concatenate([da.from_delayed(f, shape=(n,), dtype=float) for _, f, n in kept])
        enc = prepared.encoding
        return cluster.fit_placed(
            self.client, self.workers, self.spec, (x, y, None), prepared.valid,
            (enc.names, enc.categorical_indices), self.address,
        )  # fmt: skip
